// Moved: the clock is shared by both sides of the wire (src/shared/).
export { now } from './shared/clock.js';
