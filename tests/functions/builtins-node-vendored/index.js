const oss = require('ali-oss');
const co = require('co/package.json');

exports.handler = async () => JSON.stringify({ 'ali-oss': oss.version, co: co.version });
