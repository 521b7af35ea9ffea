// The page in WebKitGTK's MiniBrowser (Safari's engine; Debian's webkit2gtk-driver), under a C
// locale, through WebKitWebDriver: scenarios.mjs.
import { WebKitPage } from './drivers.mjs';
import { engineSuite } from './scenarios.mjs';

engineSuite('WebKit', () => WebKitPage.open());
