const layerpkg = require('layerpkg');

exports.handler = async () => JSON.stringify({ layerpkg: layerpkg.who, NODE_PATH: process.env.NODE_PATH });
