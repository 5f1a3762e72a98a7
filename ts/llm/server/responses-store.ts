// The responses kept for previous_response_id and GET /v1/responses/<id> (store, on by default as
// in OpenAI's API): in memory, the least recently used dropped beyond a count, each with the
// conversation it ends (its input after any earlier ones, and its output; not its instructions,
// which a following response does not inherit).
import type { Message } from './responses-request';

export interface StoredResponse {
  response: object;
  conversation: Message[];
}

export class ResponseStore {
  private readonly entries = new Map<string, StoredResponse>();

  constructor(private readonly capacity: number) {}

  get(id: string): StoredResponse | undefined {
    const entry = this.entries.get(id);
    if (entry) {
      this.entries.delete(id);
      this.entries.set(id, entry);
    }
    return entry;
  }

  set(id: string, entry: StoredResponse): void {
    if (this.capacity <= 0) return;
    this.entries.set(id, entry);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(id: string): boolean {
    return this.entries.delete(id);
  }
}
