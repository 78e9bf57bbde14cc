import { diag } from '../diag/logger';

/**
 * The W3C Baggage rules every propagator that carries baggage applies, reading and writing alike:
 * the grammar of a list-member and the limits of a header. W3C `baggage` and Jaeger's `uberctx-*`
 * headers share them, so that baggage read in one format never leaves in another breaking them.
 *
 *   list-member = key OWS "=" OWS value *( OWS ";" OWS property )
 *   property    = key OWS "=" OWS value / key OWS
 *   key         = token (RFC 7230);  value = *baggage-octet (percent-encoded on the wire)
 */

/** At most 180 list-members (the grammar's `0*179`), 8192 bytes a header, 4096 bytes a list-member. */
export const MAX_BAGGAGE_MEMBERS = 180;
export const MAX_BAGGAGE_BYTES = 8192;
export const MAX_BAGGAGE_MEMBER_BYTES = 4096;

// key = token: visible ASCII except the RFC 7230 delimiters
const KEY_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// value = *baggage-octet: visible ASCII except '"', ',', ';' and '\'
const VALUE_RE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;
// property *( OWS ";" OWS property ), OWS trimmed at both ends. The value's OWS and octets come as
// one optional group that needs an octet, so that a run of spaces has one way to match (no backtracking
// blow-up on a long malformed member).
const PROPERTIES_RE =
  /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*=(?:[ \t]*[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+)?)?(?:[ \t]*;[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*=(?:[ \t]*[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+)?)?)*$/;

export function isBaggageKey(key: string): boolean {
  return KEY_RE.test(key);
}

/** A value as it appears on the wire (still percent-encoded). */
export function isBaggageWireValue(value: string): boolean {
  return VALUE_RE.test(value);
}

/** The properties of a list-member: the text after its first ';', without OWS at either end. */
export function isBaggagePropertyList(properties: string): boolean {
  return PROPERTIES_RE.test(properties);
}

/**
 * Counts the list-members of one header (or of the set of headers one propagator reads or writes at
 * once) against the limits, as if joined with ','; and what was dropped, said in one debug line.
 * Made only where baggage is present, so a request without any pays nothing.
 */
export class BaggageBudget {
  private members = 0;
  private bytes = 0;
  private malformed = 0;
  private overLimit = 0;
  private restIgnored = false;

  /** No further member can fit. */
  get full(): boolean {
    return this.members === MAX_BAGGAGE_MEMBERS;
  }

  /** A list-member of `length` bytes (ASCII: characters are bytes) is taken if it fits; otherwise counted as dropped. */
  fits(length: number): boolean {
    const bytes = this.members === 0 ? length : this.bytes + 1 + length;
    if (length > MAX_BAGGAGE_MEMBER_BYTES || bytes > MAX_BAGGAGE_BYTES || this.members === MAX_BAGGAGE_MEMBERS) {
      this.overLimit++;
      return false;
    }
    this.members++;
    this.bytes = bytes;
    return true;
  }

  /** A list-member known to be over the limit of one member without measuring it exactly. */
  dropOverLimit(): void {
    this.overLimit++;
  }

  /** A list-member that breaks the grammar: dropped whole. */
  dropMalformed(): void {
    this.malformed++;
  }

  /** Members too large to look at: whatever follows the limits is not read or sent. */
  dropRest(): void {
    this.restIgnored = true;
  }

  /** One debug line for what `where` dropped, if anything. */
  report(where: string): void {
    if (this.malformed === 0 && this.overLimit === 0 && !this.restIgnored) return;
    if (!diag.enabled('debug')) return;
    const rest = this.restIgnored ? ', and ignored the rest past the limits' : '';
    diag.debug(
      `${where}: dropped ${this.malformed} malformed and ${this.overLimit} over-limit baggage list-members${rest} ` +
        `(W3C Baggage: at most ${MAX_BAGGAGE_MEMBERS} members, ${MAX_BAGGAGE_BYTES} bytes, ${MAX_BAGGAGE_MEMBER_BYTES} bytes a member)`,
    );
  }
}
