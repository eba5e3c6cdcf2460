export { default } from '../../tsdown.shared.js';
