'use strict';
exports.handler = async (event) => event;
