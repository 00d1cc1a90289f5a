import { EventEmitter } from 'node:events';
import smpp from 'smpp';

/**
 * One `bind_transceiver` to an SMSC, kept up (channels reference §4.1, §4.6): reconnected with
 * backoff whenever the link drops, checked with `enquire_link` (a link that does not answer in
 * time is dropped and rebound), and a window of submits in flight. The `smpp` package leaves all
 * of that to its user, and drops pending response callbacks silently when a socket closes:
 * here every submit in flight when the link drops is answered `lost`, so its message can be sent
 * again after reconnecting.
 */

export interface BindSettings {
  host: string;
  port: number;
  tls: boolean;
  systemId: string;
  password: string;
  systemType: string;
  /** Submits in flight at once on this bind. */
  window: number;
  enquireLinkMs: number;
}

/** A received PDU as the `smpp` package decodes it: its fields as properties. */
export interface ReceivedPdu {
  command: string;
  command_status: number;
  sequence_number: number;
  [field: string]: unknown;
}

export type SubmitAnswer = { kind: 'answered'; status: number; messageId?: string } | { kind: 'lost'; reason: string };

/** What the smpp package's Session is to us. */
interface Session extends EventEmitter {
  send(pdu: unknown, onResponse?: (pdu: ReceivedPdu) => void): boolean;
  destroy(): void;
  close(): void;
  readonly socket: { setNoDelay(noDelay: boolean): unknown };
}

interface Smpp {
  connect(options: { host: string; port: number; tls: boolean }): Session;
  PDU: new (command: string, fields: Record<string, unknown>) => { response(fields?: Record<string, unknown>): unknown };
}

const library = smpp as Smpp;

/** How long the SMSC may take to answer a bind, an enquire_link or a submit before the link is taken as dead. */
const RESPONSE_TIMEOUT_MS = 10_000;
const FIRST_RECONNECT_MS = 500;
const MAX_RECONNECT_MS = 30_000;

export type BindState = 'connecting' | 'bound' | 'closed';

/**
 * Events: `bound`, `unbound` (reason), `deliver_sm` (pdu, session): the owner answers every
 * deliver_sm itself, once it has recorded what it says, with `respond(pdu, status, session)`.
 */
export class SmppBind extends EventEmitter {
  state: BindState = 'connecting';
  private session: Session | undefined;
  private readonly inFlight = new Map<number, { settle: (answer: SubmitAnswer) => void; timer: NodeJS.Timeout }>();
  private readonly slotWaiters: Array<() => void> = [];
  private reconnectDelayMs = FIRST_RECONNECT_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private enquireTimer: NodeJS.Timeout | undefined;
  private readonly sessionTimers = new Set<NodeJS.Timeout>();
  private closing = false;
  /** Binds made so far: the first is a connect, every later one a reconnect. */
  binds = 0;

  constructor(
    private readonly settings: BindSettings,
    private readonly log: (level: 'info' | 'warn', fields: Record<string, unknown>, message: string) => void,
  ) {
    super();
  }

  open(): void {
    this.closing = false;
    this.connect();
  }

  /** Submits this bind can still take. */
  get room(): number {
    return this.state === 'bound' ? this.settings.window - this.inFlight.size : 0;
  }

  /** Resolves when a slot may be free (a submit answered, or the bind came up); the caller checks again. */
  slotOrBind(): Promise<void> {
    return new Promise((resolve) => this.slotWaiters.push(resolve));
  }

  /**
   * One submit_sm; answered by the SMSC, or `lost` when the link drops or the SMSC stays silent
   * for `timeoutMs` (at most RESPONSE_TIMEOUT_MS).
   */
  submit(fields: Record<string, unknown>, timeoutMs = RESPONSE_TIMEOUT_MS): Promise<SubmitAnswer> {
    const session = this.session;
    if (this.room <= 0 || !session) return Promise.resolve({ kind: 'lost', reason: 'not bound' });
    return new Promise((resolve) => {
      const pdu = new library.PDU('submit_sm', fields) as { sequence_number?: number };
      const written = session.send(pdu, (response) => this.settle(response.sequence_number, { kind: 'answered', status: response.command_status, messageId: messageIdOf(response) }));
      if (!written || pdu.sequence_number === undefined) {
        this.drop(session, 'the link was not writable');
        resolve({ kind: 'lost', reason: 'the link was not writable' });
        return;
      }
      const wait = Math.min(timeoutMs, RESPONSE_TIMEOUT_MS);
      // A submit the SMSC never answers is as good as lost; past the full timeout the link is dropped too.
      const timer = setTimeout(() => {
        this.settle(pdu.sequence_number!, { kind: 'lost', reason: `the SMSC did not answer within ${(wait / 1000).toFixed(1)} s` });
        if (wait >= RESPONSE_TIMEOUT_MS) this.drop(session, 'a submit went unanswered');
      }, wait);
      this.inFlight.set(pdu.sequence_number, { settle: resolve, timer });
    });
  }

  /**
   * Answers a deliver_sm on the link it came on. If that link is gone, it goes unanswered: the
   * SMSC sends it again, and an answer on the new link would acknowledge another PDU.
   */
  respond(pdu: ReceivedPdu, commandStatus: number, session: unknown): void {
    const current = this.session;
    if (session !== current || !current || this.state !== 'bound') return;
    current.send((pdu as unknown as { response(fields?: Record<string, unknown>): unknown }).response({ command_status: commandStatus }));
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    const session = this.session;
    this.unbound('closing');
    if (!session) return;
    await new Promise<void>((resolve) => {
      const done = setTimeout(() => {
        session.destroy();
        resolve();
      }, 1000);
      session.once('close', () => {
        clearTimeout(done);
        resolve();
      });
      // A polite unbind first; the SMSC answers and we close.
      if (!session.send(new library.PDU('unbind', {}), () => session.close())) session.destroy();
    });
  }

  private connect(): void {
    this.state = 'connecting';
    const session = library.connect({ host: this.settings.host, port: this.settings.port, tls: this.settings.tls });
    this.session = session;
    session.on(this.settings.tls ? 'secureConnect' : 'connect', () => {
      // No Nagle: it held every other submit_sm back ~40 ms for the one after it (test/rates.test.ts).
      // Set here, not as connect's noDelay option, which a TLS socket ignores.
      session.socket.setNoDelay(true);
      this.bind(session);
    });
    // The package can also emit 'error' without a 'close' (a PDU it cannot decode leaves it deaf): drop the link either way.
    session.on('error', (error: NodeJS.ErrnoException) => {
      this.log('warn', { code: error.code }, 'the SMPP link failed');
      this.drop(session, 'the link failed');
    });
    session.on('close', () => {
      this.clearSessionTimers();
      if (this.session !== session) return;
      this.session = undefined;
      this.unbound('the link closed');
      if (!this.closing) this.scheduleReconnect();
    });
    session.on('enquire_link', (pdu: ReceivedPdu) => session.send((pdu as unknown as { response(): unknown }).response()));
    session.on('unbind', (pdu: ReceivedPdu) => {
      // The SMSC ends the session: nothing more goes on it, and it is closed even if the SMSC keeps the socket open.
      session.send((pdu as unknown as { response(): unknown }).response());
      this.unbound('the SMSC unbound');
      this.sessionTimer(() => this.drop(session, 'the SMSC unbound'), 1000);
    });
    session.on('deliver_sm', (pdu: ReceivedPdu) => this.emit('deliver_sm', pdu, session));
  }

  private bind(session: Session): void {
    const timer = this.sessionTimer(() => this.drop(session, 'the SMSC did not answer the bind'), RESPONSE_TIMEOUT_MS);
    const sent = session.send(
      new library.PDU('bind_transceiver', {
        system_id: this.settings.systemId,
        password: this.settings.password,
        system_type: this.settings.systemType,
        // The package would send 0x50 (SMPP 5.0) otherwise (reference §4.6).
        interface_version: 0x34,
      }),
      (response) => {
        clearTimeout(timer);
        if (this.session !== session) return;
        if (response.command_status !== 0) {
          // Wrong credentials stay wrong: retried, but at the longest backoff, and said loudly.
          this.log('warn', { commandStatus: response.command_status }, 'the SMSC refused the bind; check system_id and password');
          this.reconnectDelayMs = MAX_RECONNECT_MS;
          session.destroy();
          return;
        }
        this.state = 'bound';
        this.binds += 1;
        this.reconnectDelayMs = FIRST_RECONNECT_MS;
        this.log('info', { binds: this.binds }, this.binds === 1 ? 'bound to the SMSC' : 'bound to the SMSC again');
        this.startEnquiring(session);
        this.wakeSlotWaiters();
        this.emit('bound');
      },
    );
    if (!sent) this.drop(session, 'the link was not writable');
  }

  private startEnquiring(session: Session): void {
    clearInterval(this.enquireTimer);
    this.enquireTimer = setInterval(() => {
      const timer = this.sessionTimer(() => this.drop(session, 'the SMSC did not answer enquire_link'), RESPONSE_TIMEOUT_MS);
      if (!session.send(new library.PDU('enquire_link', {}), () => clearTimeout(timer))) {
        clearTimeout(timer);
        this.drop(session, 'the link was not writable');
      }
    }, this.settings.enquireLinkMs);
    this.enquireTimer.unref();
  }

  /** A timer that belongs to the current link: cleared when it closes, and never keeps the process up. */
  private sessionTimer(fire: () => void, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.sessionTimers.delete(timer);
      fire();
    }, ms);
    timer.unref();
    this.sessionTimers.add(timer);
    return timer;
  }

  private clearSessionTimers(): void {
    for (const timer of this.sessionTimers) clearTimeout(timer);
    this.sessionTimers.clear();
  }

  private settle(sequence: number, answer: SubmitAnswer): void {
    const pending = this.inFlight.get(sequence);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.inFlight.delete(sequence);
    pending.settle(answer);
    this.wakeSlotWaiters();
  }

  /** Drops the link (the SMSC says our bind is in the wrong state); it reconnects and binds again. */
  rebind(reason: string): void {
    if (this.session) this.drop(this.session, reason);
  }

  /** Drops `session` if it is still the current link; a timer or callback of an older link does nothing. */
  private drop(session: Session, reason: string): void {
    if (session !== this.session) return;
    this.log('warn', { reason }, 'dropping the SMPP link');
    session.destroy();
  }

  private unbound(reason: string): void {
    const wasBound = this.state === 'bound';
    if (this.state === 'closed') return;
    this.state = this.closing ? 'closed' : 'connecting';
    clearInterval(this.enquireTimer);
    for (const sequence of [...this.inFlight.keys()]) this.settle(sequence, { kind: 'lost', reason: `the link dropped before the SMSC answered (${reason})` });
    this.wakeSlotWaiters();
    if (wasBound) this.emit('unbound', reason);
  }

  private scheduleReconnect(): void {
    const delay = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(MAX_RECONNECT_MS, this.reconnectDelayMs * 2);
    // Jitter, so that several binds (or several nodes) do not knock on the SMSC in step.
    this.reconnectTimer = setTimeout(() => this.connect(), delay * (0.75 + Math.random() * 0.5));
  }

  private wakeSlotWaiters(): void {
    for (const wake of this.slotWaiters.splice(0)) wake();
  }
}

function messageIdOf(pdu: ReceivedPdu): string | undefined {
  const id = pdu.message_id;
  if (typeof id !== 'string') return undefined;
  const trimmed = id.replace(/\0+$/, '').trim();
  return trimmed === '' ? undefined : trimmed;
}
