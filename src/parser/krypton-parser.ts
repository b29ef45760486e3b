import { KryptonParser } from '../../grammar/parser.js';
import { expectationRecorder } from './error-messages.js';

/**
 * The one parser instance: building it analyses the grammar, which is too slow to repeat per
 * statement. It is reset by every `input =`, and parsing is synchronous, so sharing it is safe.
 */
export const kryptonParser = new KryptonParser(expectationRecorder);
