import { KryptonParser } from '../../grammar/parser.js';
import { expectationRecorder } from './error-messages.js';

/**
 * The one parser instance: building it analyses the grammar, which is too slow to repeat per
 * statement. It is reset by every `input =`, and parsing is synchronous, so sharing it is safe.
 * Built without chevrotain's checks of the grammar, which every process would pay for; the
 * grammar's tests run them.
 */
export const kryptonParser = new KryptonParser(expectationRecorder, { validate: false });
