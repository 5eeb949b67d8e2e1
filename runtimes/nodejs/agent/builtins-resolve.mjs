// fcemu's Node.js runtime: an ES module resolve hook (registered by bootstrap.js with module.register) that finds FC's
// built-in modules (/opt/fcemu/builtins/node_modules) for an ES module's `import`, which NODE_PATH does not serve.
// Node's own resolution goes first, so the function's own node_modules wins, as with require(); only a bare package
// name it cannot find is looked up again as if imported from the built-ins' folder.
const BUILTINS_PARENT = 'file:///opt/fcemu/builtins/index.mjs';
// Relative, absolute, or a URL (file:, node:, data:...): never a package of the built-ins.
const NOT_BARE = /^(\.{0,2}\/|[a-zA-Z][a-zA-Z0-9+.-]*:)/;

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || NOT_BARE.test(specifier)) throw error;
    try {
      return await nextResolve(specifier, { ...context, parentURL: BUILTINS_PARENT });
    } catch {
      throw error; // the function's own error, naming its own file
    }
  }
}
