const MODULES = ['co', 'gm', 'ali-oss', 'aliyun-sdk', '@alicloud/fc2', 'tablestore', 'body', 'raw-body', 'ali-mns',
  '@alicloud/pop-core'];

exports.handler = async () => {
  const versions = {};
  for (const name of MODULES) {
    require(name);
    versions[name] = require(`${name}/package.json`).version;
  }
  const OSS = require('ali-oss');
  const FC = require('@alicloud/fc2');
  return JSON.stringify({ versions, ossResolved: require.resolve('ali-oss'), classes: [typeof OSS, typeof FC],
    NODE_PATH: process.env.NODE_PATH });
};
