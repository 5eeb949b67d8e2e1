'use strict';
// A module that fails while it loads.
const missing = require('./does-not-exist');

exports.handler = async () => missing;
