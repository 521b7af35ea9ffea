// The page in Firefox (ESR, Debian's firefox-esr), over WebDriver BiDi: scenarios.mjs.
import { FirefoxPage } from './drivers.mjs';
import { engineSuite } from './scenarios.mjs';

engineSuite('Firefox', () => FirefoxPage.open());
