import OSS from 'ali-oss';
import FC from '@alicloud/fc2';
import co from 'co';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const handler = async () => JSON.stringify({
  classes: [typeof OSS, typeof FC, typeof co],
  'ali-oss': require('ali-oss/package.json').version,
});
