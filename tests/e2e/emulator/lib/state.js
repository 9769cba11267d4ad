'use strict';

const TelegramServer = require('telegram-test-api');

// Update types Telegram leaves out when a bot never passed allowed_updates.
const NOT_DEFAULT_UPDATES = new Set(['chat_member', 'message_reaction', 'message_reaction_count']);

class ApiError extends Error {
  constructor(code, description, parameters) {
    super(description);
    this.code = code;
    this.parameters = parameters;
  }
}
const badRequest = (what) => new ApiError(400, `Bad Request: ${what}`);
const now = () => Math.floor(Date.now() / 1000);

/**
 * Everything the emulator remembers, layered on telegram-test-api's own storage: the package
 * keeps the update queue (storage.userMessages), the bot's messages (storage.botMessages) and
 * the id counters; this adds what Telegram has and the package lacks.
 */
class EmulatorState {
  constructor({ botUsername, botName, htmlStrict }) {
    this.server = new TelegramServer({ storeTimeout: 3600 });
    this.config = { botUsername, botName, htmlStrict };
    this.bots = new Map(); // token -> per-bot state
    this.chats = new Map(); // chat id -> Chat seen on the user side
    this.userMessages = new Map(); // `${token}:${chat}:${id}` -> Message sent by a user
    this.files = new Map(); // file_id -> {data, fileName, mimeType, path}
    this.floods = new Map(); // `${token}:${method}` or `*:${method}` -> {count, retryAfter}
    this.nextQueryId = 1;
  }

  bot(token) {
    if (!this.bots.has(token)) {
      this.bots.set(token, {
        calls: {}, commands: {}, chatActions: [], callbackAnswers: {}, inlineAnswers: {},
        callbacks: new Set(), inlineQueries: new Set(), webhook: null, allowedUpdates: null,
        poll: null, delivery: Promise.resolve(),
      });
    }
    return this.bots.get(token);
  }

  /** The bot's User; its id is the token's numeric prefix, as in Telegram. */
  botUser(token) {
    const id = Number(String(token).split(':')[0]) || 666;
    return { id, is_bot: true, first_name: this.config.botName, username: this.config.botUsername };
  }

  rememberChat(chat) {
    this.chats.set(String(chat.id), chat);
    return chat;
  }

  /** The Chat a bot message goes to; Telegram knows it, the package invents a private one. */
  chat(chatId) {
    const id = Number(chatId);
    if (!Number.isSafeInteger(id)) throw badRequest('chat not found');
    return this.chats.get(String(id)) || { id, type: 'private', first_name: `User ${id}` };
  }

  // --- bot messages (the package's storage.botMessages, extended) ---

  /** Store a message the bot sent; the package assigns message_id. */
  addBotMessage(token, method, params, message) {
    this.server.addBotMessage({ ...params }, token);
    const record = this.server.storage.botMessages[this.server.storage.botMessages.length - 1];
    Object.assign(record, { method, edits: 0, deleted: false, markup: params.reply_markup });
    // The package's own result has `date` in milliseconds and a made-up chat: build ours.
    record.result = {
      message_id: record.messageId, from: this.botUser(token),
      chat: this.chat(params.chat_id), date: now(), ...message,
    };
    return record;
  }

  findBotMessage(token, chatId, messageId) {
    return this.server.storage.botMessages.find((r) => r.botToken === token && !r.deleted
      && String(r.result.chat.id) === String(chatId)
      && String(r.messageId) === String(messageId));
  }

  botMessages(token, chatId) {
    return this.server.storage.botMessages.filter((r) => r.botToken === token
      && (chatId === undefined || String(r.result.chat.id) === String(chatId)));
  }

  findMessage(token, chatId, messageId) {
    const record = this.findBotMessage(token, chatId, messageId);
    return record ? record.result : this.userMessages.get(`${token}:${chatId}:${messageId}`);
  }

  // --- the update queue ---

  /** Queue an update the package cannot express (edited_message, inline_query, ...). */
  enqueueRaw(token, update) {
    const item = {
      botToken: token, updateId: this.server.updateId++, raw: update, time: Date.now(),
      isRead: false,
    };
    this.server.storage.userMessages.push(item);
    this.updateAdded(token);
    return item.updateId;
  }

  updateAdded(token) {
    const bot = this.bot(token);
    if (bot.poll) bot.poll.wake();
    if (bot.webhook) bot.delivery = bot.delivery.then(() => this.deliver(token));
  }

  /** Telegram-shaped update for a queued item; fixes what the package's formatUpdate lacks. */
  format(item) {
    if (item.raw) return { update_id: item.updateId, ...item.raw };
    const update = TelegramServer.formatUpdate(item);
    if (update.message) {
      const { botToken, ...message } = update.message;
      update.message = message;
    }
    if (update.callback_query) {
      // python-telegram-bot requires chat_instance and drops the whole batch without it.
      update.callback_query.chat_instance = String(update.callback_query.message.chat.id);
    }
    return update;
  }

  queue(token) {
    return this.server.storage.userMessages.filter((u) => u.botToken === token && !u.confirmed);
  }

  /** getUpdates offset semantics: every update below offset is confirmed and forgotten. */
  confirm(token, offset) {
    const queue = this.queue(token);
    const limit = offset < 0 ? queue[Math.max(0, queue.length + offset)]?.updateId : offset;
    for (const item of queue) {
      if (limit === undefined || item.updateId < limit) item.confirmed = true;
    }
  }

  select(token, offset, limit) {
    const allowed = this.bot(token).allowedUpdates;
    const updates = [];
    for (const item of this.queue(token)) {
      if (item.updateId < offset) continue;
      const update = this.format(item);
      const type = Object.keys(update).find((k) => k !== 'update_id');
      const wanted = allowed && allowed.length ? allowed.includes(type)
        : !NOT_DEFAULT_UPDATES.has(type);
      if (!wanted) { item.confirmed = true; continue; }
      item.isRead = true;
      updates.push(update);
      if (updates.length >= limit) break;
    }
    return updates;
  }

  /** Push queued updates to the bot's webhook, one at a time, as Telegram does. */
  async deliver(token) {
    const bot = this.bot(token);
    for (const item of this.queue(token)) {
      if (!bot.webhook) return;
      const headers = { 'content-type': 'application/json' };
      if (bot.webhook.secret) headers['x-telegram-bot-api-secret-token'] = bot.webhook.secret;
      try {
        const response = await fetch(bot.webhook.url, {
          method: 'POST', headers, body: JSON.stringify(this.format(item)),
        });
        if (!response.ok) throw new Error(`Wrong response from the webhook: ${response.status}`);
        item.confirmed = true;
      } catch (error) {
        bot.webhook.lastError = { date: now(), message: String(error.message || error) };
        // Telegram retries with backoff; a fixed short delay is enough for tests.
        setTimeout(() => this.updateAdded(token), 200).unref();
        return;
      }
    }
  }

  // --- files ---

  /** Remember an uploaded file and describe it the way Telegram does. */
  storeFile(kind, { data, fileName, mimeType }) {
    const n = this.files.size + 1;
    const fileId = `${kind}-${n}-${Date.now().toString(36)}`;
    const ext = (fileName && fileName.includes('.')) ? fileName.slice(fileName.lastIndexOf('.')) : '';
    const path = `${kind}s/file_${n}${ext}`;
    this.files.set(fileId, { data, fileName, mimeType, path, uniqueId: `u${n}` });
    return fileId;
  }

  /** Count a call and, if a flood was injected for this method, answer it with 429. */
  checkFlood(token, method) {
    const calls = this.bot(token).calls;
    calls[method] = (calls[method] || 0) + 1;
    const flood = this.floods.get(`${token}:${method}`) || this.floods.get(`*:${method}`);
    if (!flood || flood.count <= 0) return;
    flood.count -= 1;
    throw new ApiError(429, `Too Many Requests: retry after ${flood.retryAfter}`,
      { retry_after: flood.retryAfter });
  }
}

module.exports = { EmulatorState, ApiError, badRequest, now };
