// The model's tokenizer (tokenizer.json through @huggingface/tokenizers, offline) and chat
// template (tokenizer_config.json's chat_template rendered with @huggingface/jinja), plus the
// incremental detokenizer that turns a growing list of token ids into text deltas.
import path from 'node:path';

import type { Template } from '@huggingface/jinja' with { 'resolution-mode': 'import' };
import type { Tokenizer } from '@huggingface/tokenizers' with { 'resolution-mode': 'import' };

import { HsError } from '../errors';
import { readJsonFile } from './json-file';

export interface ChatMessage {
  role: string;
  content: string;
  /** An assistant's earlier tool calls, arguments as objects (as chat templates read them). */
  tool_calls?: { id?: string; type: 'function'; function: { name: string; arguments: unknown } }[];
  /** A tool result's call id. */
  tool_call_id?: string;
  name?: string;
}

/** How a conversation is rendered (the options of transformers' apply_chat_template). */
export interface ChatTemplateOptions {
  /** End with the assistant's turn opening (default true). */
  addGenerationPrompt?: boolean;
  /** Render the final (assistant) message open-ended, so generation continues it (default false). */
  continueFinalMessage?: boolean;
  /** More variables for the template (e.g. a model's enable_thinking). */
  kwargs?: Record<string, unknown>;
  /** Tools the model may call, OpenAI's [{ type: 'function', function: { name, description, parameters } }]. */
  tools?: readonly unknown[];
}

function tokenText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return null;
}

// GPT-2's byte-level BPE writes each byte as a printable char: this map reads them back.
const BYTE_OF_CHAR: ReadonlyMap<string, number> = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const map = new Map<string, number>();
  let extra = 0;
  for (let b = 0; b < 256; b++) map.set(String.fromCharCode(printable(b) ? b : 256 + extra++), b);
  return map;
})();

// The bytes of a vocabulary entry that holds part of a character, or null when unknown.
function pieceBytes(piece: string | undefined): Uint8Array | null {
  if (piece === undefined) return null;
  const fallback = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
  if (fallback) return Uint8Array.of(parseInt(fallback[1], 16));
  const bytes = [...piece].map((c) => BYTE_OF_CHAR.get(c));
  return bytes.every((b) => b !== undefined) ? Uint8Array.from(bytes as number[]) : null;
}

export class LlmTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    private readonly chatTemplate: Template | null,
    private readonly specialTokens: Record<string, string>,
    /** Token ids that end generation (config.json's eos_token_id and the tokenizer's eos_token). */
    readonly eosTokenIds: ReadonlySet<number>,
  ) {}

  static async load(dir: string, configEosTokenIds: readonly number[]): Promise<LlmTokenizer> {
    // Both libraries ship as ES modules; a dynamic import loads them from this CommonJS package.
    const [{ Tokenizer }, { Template }] = await Promise.all([import('@huggingface/tokenizers'), import('@huggingface/jinja')]);
    const tokenizerJson = await readJsonFile(path.join(dir, 'tokenizer.json'), true);
    const tokenizerConfig = (await readJsonFile(path.join(dir, 'tokenizer_config.json'), false)) ?? {};
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(tokenizerJson!, tokenizerConfig);
    } catch (e) {
      throw new HsError('ERR_INVALID_MODEL', `tokenizer.json cannot be used: ${(e as Error).message}`, { cause: e });
    }
    const special: Record<string, string> = {};
    for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token']) {
      const text = tokenText(tokenizerConfig[key]);
      if (text !== null) special[key] = text;
    }
    const eos = new Set(configEosTokenIds);
    if (special.eos_token !== undefined) {
      const id = tokenizer.token_to_id(special.eos_token);
      if (id !== undefined) eos.add(id);
    }
    let source = tokenizerConfig.chat_template;
    if (Array.isArray(source)) source = (source as { name?: string; template?: string }[]).find((t) => t.name === 'default')?.template;
    let template: Template | null = null;
    if (typeof source === 'string') {
      try {
        template = new Template(source);
      } catch (e) {
        throw new HsError('ERR_INVALID_MODEL', `tokenizer_config.json: the chat_template does not parse: ${(e as Error).message}`, { cause: e });
      }
    }
    return new LlmTokenizer(tokenizer, template, special, eos);
  }

  /** Every token (added tokens included) and its id. */
  vocabulary(): ReadonlyMap<string, number> {
    return this.tokenizer.get_vocab(true);
  }

  get hasChatTemplate(): boolean {
    return this.chatTemplate !== null;
  }

  encode(text: string, addSpecialTokens = true): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  /**
   * Text of `ids`. cleanUpSpaces: transformers' clean_up_tokenization_spaces (" ," -> "," and the
   * like); undefined takes tokenizer_config.json's setting (true when absent), as transformers does.
   */
  decode(ids: readonly number[], skipSpecialTokens = true, cleanUpSpaces?: boolean): string {
    if (ids.length === 0) return '';
    return this.tokenizer.decode(ids as number[], { skip_special_tokens: skipSpecialTokens, clean_up_tokenization_spaces: cleanUpSpaces });
  }

  /**
   * The text each token id adds where it follows other text (null for special tokens and ids
   * without text). Decoded after a plain letter and cut after it: a lone token would lose the
   * leading space that a sentencepiece ('▁') token stands for at the start of a text.
   */
  continuationTexts(vocabSize: number): (string | null)[] {
    const [anchor] = this.encode('a', false);
    const lead = anchor === undefined ? null : this.decode([anchor], true, false);
    return Array.from({ length: vocabSize }, (_, id) => {
      const alone = this.decode([id], true, false);
      if (!alone || lead === null) return alone || null;
      const both = this.decode([anchor, id], true, false);
      return both.startsWith(lead) && both.length > lead.length ? both.slice(lead.length) : alone;
    });
  }

  /**
   * The bytes each token id adds where it follows other text (null for special tokens, ids without
   * text, and pieces of a character whose bytes the vocabulary does not show): the UTF-8 of its
   * continuation text, or, for a token that holds part of a multi-byte character (its text reads
   * U+FFFD), the bytes its vocabulary entry stands for: a byte-level BPE string (GPT-2's byte to
   * char map) or a byte-fallback token '<0xHH>'.
   */
  continuationBytes(vocabSize: number): (Uint8Array | null)[] {
    const texts = this.continuationTexts(vocabSize);
    const pieces = new Map<number, string>();
    for (const [piece, id] of this.vocabulary()) pieces.set(id, piece);
    const encoder = new TextEncoder();
    return texts.map((text, id) => {
      if (text === null) return null;
      if (!text.includes('\uFFFD')) return encoder.encode(text);
      return pieceBytes(pieces.get(id));
    });
  }

  /**
   * The prompt text of a conversation, by default ending with the assistant's turn opening. With
   * continueFinalMessage the text stops right after the final message's (trimmed) content, as
   * transformers cuts it.
   */
  applyChatTemplate(messages: readonly ChatMessage[], o: ChatTemplateOptions = {}): string {
    if (!this.chatTemplate) throw new HsError('ERR_INVALID_ARGUMENT', 'this model has no chat template (tokenizer_config.json chat_template)');
    const cont = o.continueFinalMessage === true;
    const addGenerationPrompt = o.addGenerationPrompt ?? !cont;
    if (cont && addGenerationPrompt) throw new HsError('ERR_INVALID_ARGUMENT', 'continueFinalMessage and addGenerationPrompt cannot both be set');
    const final = messages.at(-1);
    if (cont && final?.role !== 'assistant') throw new HsError('ERR_INVALID_ARGUMENT', 'continueFinalMessage needs a final assistant message');
    let text: string;
    try {
      const tools = o.tools && o.tools.length > 0 ? { tools: o.tools } : {};
      text = this.chatTemplate.render({ ...o.kwargs, ...tools, messages, add_generation_prompt: addGenerationPrompt, ...this.specialTokens });
    } catch (e) {
      throw new HsError('ERR_INVALID_ARGUMENT', `the chat template failed on these messages: ${(e as Error).message}`, { cause: e });
    }
    if (!cont) return text;
    const content = final!.content.trim();
    const at = text.lastIndexOf(content);
    if (content === '' || at < 0) throw new HsError('ERR_INVALID_ARGUMENT', 'continueFinalMessage: the final message does not appear in the rendered chat');
    return text.slice(0, at + content.length);
  }

  /** Token ids of a conversation; special tokens come from the template, not added again. */
  encodeChat(messages: readonly ChatMessage[], o: ChatTemplateOptions = {}): number[] {
    return this.encode(this.applyChatTemplate(messages, o), false);
  }
}

// Prompt tokens that open the detokenizer's window (vLLM's INITIAL_INCREMENTAL_DETOKENIZATION_OFFSET).
const CONTEXT_TOKENS = 5;

/**
 * Text deltas of a growing token list. A window of already-emitted tokens is decoded with the new
 * ones so that merges across token boundaries (spaces, multi-byte characters) come out right, and
 * text ending in U+FFFD (an incomplete UTF-8 sequence) is held back until the next token. Decoded
 * without clean_up_tokenization_spaces, as vLLM streams: the clean-up can shorten the window's
 * earlier text (" ," -> ","), and the delta would then lose characters.
 */
export class IncrementalDetokenizer {
  private prefixOffset = 0;
  private readOffset: number;
  private readonly context: readonly number[];

  /**
   * `context`: the prompt's ids. Its last few open the window (as vLLM's detokenizer starts), so a
   * first token that stands for a leading space (a sentencepiece '▁' token) keeps it.
   */
  constructor(private readonly tokenizer: LlmTokenizer, context: readonly number[] = []) {
    this.context = context.slice(-CONTEXT_TOKENS);
    this.readOffset = this.context.length;
  }

  private decode(ids: readonly number[]): string {
    return this.tokenizer.decode(ids, true, false);
  }

  // Ids [from, to) of context + output, without copying the whole output each token.
  private window(output: readonly number[], from: number, to = this.context.length + output.length): number[] {
    const c = this.context.length;
    if (from >= c) return output.slice(from - c, to - c);
    return [...this.context.slice(from, Math.min(to, c)), ...output.slice(0, Math.max(0, to - c))];
  }

  /** The new text after ids (all generated ids so far) grew. */
  next(output: readonly number[]): string {
    const prefix = this.decode(this.window(output, this.prefixOffset, this.readOffset));
    const full = this.decode(this.window(output, this.prefixOffset));
    if (full.length <= prefix.length || full.endsWith('\uFFFD')) return '';
    this.prefixOffset = this.readOffset;
    this.readOffset = this.context.length + output.length;
    return full.slice(prefix.length);
  }

  /** Whatever text is still held back (an incomplete character at the end of the output). */
  flush(output: readonly number[]): string {
    const prefix = this.decode(this.window(output, this.prefixOffset, this.readOffset));
    const full = this.decode(this.window(output, this.prefixOffset));
    this.prefixOffset = this.readOffset = this.context.length + output.length;
    return full.length > prefix.length ? full.slice(prefix.length) : '';
  }
}
