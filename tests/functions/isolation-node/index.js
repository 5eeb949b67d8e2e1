'use strict';
const { execFileSync } = require('child_process');

exports.handler = async () => {
  const child = execFileSync('env').toString();
  return {
    secretInEnviron: Object.keys(process.env).filter((name) => name.includes('FCEMU')),
    secretInChild: child.split('\n').filter((line) => line.includes('FCEMU')).map((line) => line.split('=')[0]),
  };
};
