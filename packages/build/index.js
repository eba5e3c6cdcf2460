// Like node-addon-api: CMake asks `node -p "require('@luaipc/build').cmake"`.
const path = require('node:path');

exports.include = path.join(__dirname, 'include');
exports.cmake = path.join(__dirname, 'cmake', 'luaipc_addon.cmake');
