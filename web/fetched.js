// Imported first by app.js, so evaluated before any other module of the page: once it runs, every
// module has been fetched and linked. boot.js tells by it, not by the wording of the browsers'
// errors, whether the page's scripts could not be loaded (the network) or one threw as it started.
if (window.mnistBoot) window.mnistBoot.fetched = true;
