import workerpool from 'workerpool';

// workerpool's worker that does nothing.
workerpool.worker({ noop: () => 0 });
