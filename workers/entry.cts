// The file piscina loads in each thread. piscina loads a worker file with
// require() first, and on Node 20.19+ require() of an ES module is
// unflagged: a thread terminated while it is inside that require (close()
// soon after createRuntime, a pool shrinking) aborts the whole process
// (V8 fatal "v8::Module::IsGraphAsync must be used on an instantiated
// module", exit 134; 3 of 3 runs of 50 create/execute/close cycles at 8
// threads). A CommonJS entry that import()s the ES-module worker keeps
// require() away from ES modules; piscina awaits the exported promise.
// guards.js goes first: it captures the builtins before any other module runs.
export = import('./guards.js').then(() => import('./worker.js')).then((worker) => worker.default);
