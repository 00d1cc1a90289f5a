/**
 * A FakeSmsc in a process of its own, for tests that time when submits arrive. In the test's own
 * process a submit is stamped only when the server's event loop gets round to reading it: while
 * that loop is busy accepting a burst of requests, the first submits were stamped over 100 ms
 * after they were written, and a rate test measured 886 ms between sends the server had started
 * a full second apart. Here nothing else runs on the fake's loop, so a stamp is the arrival.
 *
 *   const smsc = await FakeSmscProcess.start({ systemId: 'x', password: 'pw', autoReceipt: 'DELIVRD' });
 *   await smsc.waitForBinds(1);
 *   const times = await smsc.submitTimes(30);   // Date.now() at each arrival, in arrival order
 *   await smsc.close();
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { FakeSmsc, type FakeSmscOptions } from './fake-smsc.js';

/** The fork runs this module with this argument; the test runner, which runs every module under dist/, does not. */
const RUN_AS_PEER = '--run-fake-smsc';

type Question = { id: number; ask: 'binds' | 'submitTimes'; count: number; timeoutMs: number };
type Answer = { id: number; times?: number[]; error?: string };
type Listening = { port: number };

export class FakeSmscProcess {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (answer: Answer) => void; reject: (error: Error) => void }>();

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.on('message', (answer: Answer) => {
      const asker = this.waiting.get(answer.id);
      this.waiting.delete(answer.id);
      if (answer.error !== undefined) asker?.reject(new Error(answer.error));
      else asker?.resolve(answer);
    });
    child.once('exit', (code) => {
      for (const asker of this.waiting.values()) asker.reject(new Error(`the fake SMSC process exited (code ${code})`));
      this.waiting.clear();
    });
  }

  /** Options as for FakeSmsc, but its clock is the peer process's Date.now. */
  static async start(options: Omit<FakeSmscOptions, 'now'>): Promise<FakeSmscProcess> {
    const child = fork(fileURLToPath(import.meta.url), [RUN_AS_PEER, JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const listening = (await Promise.race([
      once(child, 'message').then(([message]) => message as Listening),
      once(child, 'exit').then(([code]) => {
        throw new Error(`the fake SMSC process exited before it listened (code ${code})`);
      }),
    ])) as Listening;
    return new FakeSmscProcess(child, listening.port);
  }

  /** Resolves once `count` binds were accepted in total. */
  async waitForBinds(count: number, timeoutMs = 5000): Promise<void> {
    await this.ask({ ask: 'binds', count, timeoutMs });
  }

  /** When each of the first `count` submits arrived (the peer's Date.now()), once that many did. */
  async submitTimes(count: number, timeoutMs = 5000): Promise<number[]> {
    return (await this.ask({ ask: 'submitTimes', count, timeoutMs })).times ?? [];
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill();
    await exited;
  }

  private ask(question: Omit<Question, 'id'>): Promise<Answer> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ id, ...question } satisfies Question);
    });
  }
}

async function runAsPeer(options: FakeSmscOptions): Promise<void> {
  const smsc = await FakeSmsc.start(options);
  process.on('message', (question: Question) => {
    const answered = question.ask === 'binds' ? smsc.waitForBinds(question.count, question.timeoutMs).then(() => ({})) : smsc.waitForSubmits(question.count, question.timeoutMs).then((submits) => ({ times: submits.map((submit) => submit.at) }));
    answered.then(
      (answer) => process.send?.({ id: question.id, ...answer } satisfies Answer),
      (error: unknown) => process.send?.({ id: question.id, error: error instanceof Error ? error.message : String(error) } satisfies Answer),
    );
  });
  // The parent went away (or closed us): so do we.
  process.on('disconnect', () => void smsc.close().finally(() => process.exit(0)));
  process.send?.({ port: smsc.port } satisfies Listening);
}

if (process.argv[2] === RUN_AS_PEER) await runAsPeer(JSON.parse(process.argv[3]!) as FakeSmscOptions);
