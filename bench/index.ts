// `npm run bench [-- --quick]`: every benchmark, one after another, in one process.
await import('./plan.js');
await import('./channel.js');
