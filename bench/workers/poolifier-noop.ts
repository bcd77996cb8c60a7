import { ThreadWorker } from 'poolifier';

// poolifier's worker that does nothing.
export default new ThreadWorker(() => 0);
