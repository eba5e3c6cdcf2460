// The runtime part in one module: the loader, the argument checks and onAbort. The glue compiled
// into each addon, and its CMake function, are @luaipc/build's.
module.exports = { ...require('./load.js'), ...require('./args.js'), ...require('./abort.js') };
