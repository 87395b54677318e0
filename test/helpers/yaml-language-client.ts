// A minimal LSP client for the real yaml-language-server (the devDependency), spoken over stdio the
// way an editor does: initialize, configure, open a document, then ask for diagnostics, completion
// and hover. Only what the schema tests need; each test starts its own server and stops it.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface LspPosition {
  line: number;
  character: number;
}
export interface LspDiagnostic {
  range: { start: LspPosition; end: LspPosition };
  message: string;
  severity?: number;
}
export interface LspCompletionItem {
  label: string;
  insertText?: string;
  documentation?: unknown;
}
export interface LspHover {
  contents: { kind: string; value: string } | string;
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

const serverScript = join(
  dirname(createRequire(import.meta.url).resolve('yaml-language-server/package.json')),
  'bin',
  'yaml-language-server',
);

export class YamlLanguageClient {
  private readonly child: ChildProcessWithoutNullStreams;
  private buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly diagnostics = new Map<string, { version: number; items: LspDiagnostic[] }[]>();
  private readonly waiters: (() => void)[] = [];
  private stderr = '';
  private configured: () => void = () => undefined;

  private constructor(private readonly settings: Record<string, unknown>) {
    this.child = spawn(process.execPath, [serverScript, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (chunk: Buffer) => this.receive(chunk));
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
  }

  /** Starts a server with these `yaml.*` settings and completes the LSP handshake. */
  static async start(settings: Record<string, unknown>, rootUri: string): Promise<YamlLanguageClient> {
    const client = new YamlLanguageClient(settings);
    await client.request('initialize', {
      processId: process.pid,
      rootUri,
      capabilities: {
        workspace: { configuration: true },
        textDocument: {
          completion: { completionItem: { snippetSupport: true, documentationFormat: ['markdown', 'plaintext'] } },
          hover: { contentFormat: ['markdown', 'plaintext'] },
          publishDiagnostics: { versionSupport: true },
        },
      },
    });
    // The server asks for its settings once initialized; documents opened before it has them are
    // validated without the schema.
    const configured = new Promise<void>((resolve) => {
      client.configured = resolve;
    });
    client.notify('initialized', {});
    client.notify('workspace/didChangeConfiguration', { settings: { yaml: settings } });
    await configured;
    return client;
  }

  open(uri: string, text: string, version = 1): void {
    this.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version, text } });
  }

  /** The first diagnostics the server publishes for this version of the document. */
  async diagnosticsFor(uri: string, version = 1, timeoutMs = 8000): Promise<LspDiagnostic[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Servers that do not echo the version publish for the open document's latest one.
      const found = (this.diagnostics.get(uri) ?? []).find((d) => d.version === version || d.version === -1);
      if (found !== undefined) return found.items;
      if (Date.now() > deadline) throw new Error(`no diagnostics for ${uri} v${version}; server said: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async completion(uri: string, position: LspPosition): Promise<LspCompletionItem[]> {
    const result = (await this.request('textDocument/completion', { textDocument: { uri }, position })) as
      { items: LspCompletionItem[] } | LspCompletionItem[] | null;
    if (result === null) return [];
    return Array.isArray(result) ? result : result.items;
  }

  async hover(uri: string, position: LspPosition): Promise<LspHover | null> {
    return (await this.request('textDocument/hover', { textDocument: { uri }, position })) as LspHover | null;
  }

  async stop(): Promise<void> {
    try {
      await Promise.race([this.request('shutdown', null), new Promise((resolve) => setTimeout(resolve, 1000))]);
      this.notify('exit', null);
    } finally {
      this.child.kill();
    }
  }

  private request(method: string, params: unknown): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ jsonrpc: '2.0', id, method, params });
    });
  }

  private notify(method: string, params: unknown): void {
    this.send({ jsonrpc: '2.0', method, params });
  }

  private send(message: unknown): void {
    const body = Buffer.from(JSON.stringify(message), 'utf8');
    this.child.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.child.stdin.write(body);
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const headerEnd = this.buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const header = this.buffer.subarray(0, headerEnd).toString('ascii');
      const length = Number(/Content-Length: *(\d+)/i.exec(header)?.[1] ?? NaN);
      if (!Number.isFinite(length) || this.buffer.length < headerEnd + 4 + length) return;
      const body = this.buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8');
      this.buffer = this.buffer.subarray(headerEnd + 4 + length);
      this.dispatch(JSON.parse(body) as Record<string, unknown>);
    }
  }

  private dispatch(message: Record<string, unknown>): void {
    const id = message['id'];
    const method = message['method'];
    if (typeof method === 'string' && id !== undefined) {
      // A request from the server: answer the settings it asks for, and null to anything else.
      const params = message['params'] as { items?: { section?: string }[] } | undefined;
      const result =
        method === 'workspace/configuration'
          ? (params?.items ?? []).map((item) => (item.section === 'yaml' ? this.settings : null))
          : null;
      this.send({ jsonrpc: '2.0', id, result });
      if (method === 'workspace/configuration') this.configured();
      return;
    }
    if (method === 'textDocument/publishDiagnostics') {
      const params = message['params'] as { uri: string; version?: number; diagnostics: LspDiagnostic[] };
      const list = this.diagnostics.get(params.uri) ?? [];
      list.push({ version: params.version ?? -1, items: params.diagnostics });
      this.diagnostics.set(params.uri, list);
      for (const wake of this.waiters.splice(0)) wake();
      return;
    }
    if (typeof id === 'number') {
      const pending = this.pending.get(id);
      if (pending === undefined) return;
      this.pending.delete(id);
      const error = message['error'] as { message?: string } | undefined;
      if (error !== undefined) pending.reject(new Error(error.message ?? 'LSP error'));
      else pending.resolve(message['result']);
    }
  }
}
