import { referenceCandidates } from './delivery-receipt.js';

/**
 * Which form an SMSC writes message ids in (channels reference §4.2: some answer submit_sm_resp
 * in hex and write the receipt text in decimal, or the reverse), learnt from what it sends, so
 * that a receipt names exactly the reference its submission recorded. One form, not a guess
 * among several: a receipt that beats its submission is held under that form and found by it,
 * and a converted id never lands on another message whose reference happens to read that way.
 */
export class ReceiptIdForm {
  /** The case of hex letters in submit_sm_resp ids; undefined until one had letters. */
  private answerHexCase: 'lower' | 'upper' | undefined;
  private answersSeen = false;
  /** A receipt text once wrote an id with hex letters: the text is hex, as the answers are. */
  private textIsHex = false;

  observe(answerId: string): void {
    this.answersSeen = true;
    if (/[a-f]/.test(answerId)) this.answerHexCase = 'lower';
    else if (/[A-F]/.test(answerId)) this.answerHexCase ??= 'upper';
  }

  /**
   * The reference a receipt's id names, and (only while nothing is known of this SMSC's forms,
   * e.g. just after a restart) the other forms it may stand for.
   */
  referenceOf(id: string, source: 'tlv' | 'text'): { ref: string; alternates: string[] } {
    const exact = id.trim();
    // receipted_message_id is the id exactly as the submit was answered.
    if (source === 'tlv') return { ref: exact, alternates: [] };
    const hasHexLetters = /[a-f]/i.test(exact);
    if (hasHexLetters) this.textIsHex = true;
    if (!this.answersSeen) {
      const [ref, ...alternates] = referenceCandidates(exact);
      return { ref: ref ?? exact, alternates };
    }
    if (this.answerHexCase !== undefined) {
      // Hex answers; a text of digits only (and never with letters) is the decimal form (SMPP 3.4's).
      if (this.textIsHex || !/^\d+$/.test(exact)) return { ref: exact, alternates: [] };
      const hex = BigInt(exact).toString(16);
      return { ref: this.answerHexCase === 'upper' ? hex.toUpperCase() : hex, alternates: [] };
    }
    // Decimal answers; a text with hex letters is the hex form of one.
    if (hasHexLetters && /^[0-9a-f]+$/i.test(exact)) return { ref: BigInt(`0x${exact}`).toString(10), alternates: [] };
    return { ref: exact, alternates: [] };
  }
}
