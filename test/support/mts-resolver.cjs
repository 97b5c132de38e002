// Jest resolves `./x.mjs` to our `./x.mts` source when no `x.mjs` exists: a few of our modules
// are ES modules, imported as TypeScript wants (by their emitted name). Packages that ship
// real .mjs files resolve as usual.
module.exports = (request, options) => {
  try {
    return options.defaultResolver(request, options);
  } catch (error) {
    if (!/^\.{1,2}\/.*\.mjs$/.test(request)) throw error;
    return options.defaultResolver(request.replace(/\.mjs$/, '.mts'), options);
  }
};
