package mnistdir

// Module is the module that holds the MNIST files, for the error the tests expect when it cannot be had.
const Module = module
