import oss from 'ali-oss';
import co from 'co';

export const handler = async () => JSON.stringify({ 'ali-oss': oss.version, co: typeof co });
