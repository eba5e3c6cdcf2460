// Like node-addon-api: CMake asks `node -p "require('@luaipc/native').include"`.
const path = require('node:path');

module.exports = {
  include: path.join(__dirname, 'include'),
  cmake: path.join(__dirname, 'cmake', 'luaipc_addon.cmake'),
};
