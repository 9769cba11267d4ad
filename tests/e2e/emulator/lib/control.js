'use strict';

const { badRequest, now } = require('./state');

// What a user-sent file looks like in the Message, per kind (besides ids and size).
const USER_MEDIA = {
  document: {}, photo: { width: 800, height: 600 }, voice: { duration: 1 },
  audio: { duration: 1 }, video: { width: 640, height: 360, duration: 1 },
  sticker: { width: 512, height: 512, type: 'regular', is_animated: false, is_video: false,
    emoji: '🙂' },
};

/**
 * Entities Telegram adds to what a user types: /commands at the start and @mentions.
 * telegram-test-api only adds bot_command through its separate sendCommand route, so a
 * "/start" typed as a plain message never reaches python-telegram-bot's CommandHandler.
 */
function autoEntities(text, given) {
  if (given) return given;
  const entities = [];
  const command = /^\/[a-zA-Z0-9_]{1,32}(@[a-zA-Z0-9_]{5,32})?/.exec(text);
  if (command) entities.push({ type: 'bot_command', offset: 0, length: command[0].length });
  for (const m of text.matchAll(/(^|[^\w@/])(@[a-zA-Z0-9_]{5,32})\b/g)) {
    entities.push({ type: 'mention', offset: m.index + m[1].length, length: m[2].length });
  }
  return entities.length ? entities : undefined;
}

function userAndChat(state, body) {
  const userId = Number(body.user_id);
  if (!Number.isSafeInteger(userId)) throw badRequest('user_id is required');
  const from = {
    id: userId, is_bot: Boolean(body.is_bot), first_name: body.first_name || `User ${userId}`,
    username: body.username || `user${userId}`, language_code: body.language_code || 'ar',
  };
  const type = body.chat_type || 'private';
  const chatId = Number(body.chat_id ?? userId);
  const chat = type === 'private'
    ? { id: chatId, type, first_name: from.first_name, username: from.username }
    : { id: chatId, type, title: body.title || `Chat ${chatId}` };
  return { from, chat: state.rememberChat(chat) };
}

function userMedia(state, media) {
  if (!(media.kind in USER_MEDIA)) throw badRequest(`unknown media kind ${media.kind}`);
  const data = Buffer.from(media.content_b64 || '', 'base64');
  const fileId = state.storeFile(media.kind, {
    data, fileName: media.file_name, mimeType: media.mime_type,
  });
  const file = { file_id: fileId, file_unique_id: state.files.get(fileId).uniqueId,
    file_size: data.length, ...USER_MEDIA[media.kind] };
  if (media.kind !== 'photo' && media.kind !== 'sticker') {
    Object.assign(file, { file_name: media.file_name, mime_type: media.mime_type });
  }
  return { [media.kind]: media.kind === 'photo' ? [file] : file };
}

/** POST /_test/message: a user writes (text, or a file with a caption) to the bot. */
async function userMessage(state, token, body) {
  const { from, chat } = userAndChat(state, body);
  const message = { from, chat, date: now() };
  // Anonymous group admins and posts sent as a channel: Telegram names the chat in sender_chat
  // (`true` for the message's own chat, as for anonymous admins).
  if (body.sender_chat === true) message.sender_chat = chat;
  else if (body.sender_chat) message.sender_chat = state.rememberChat(body.sender_chat);
  if (body.media) {
    Object.assign(message, userMedia(state, body.media));
    if (body.caption) message.caption = body.caption;
  } else {
    message.text = String(body.text ?? '');
    if (!message.text) throw badRequest('message text is empty');
    const entities = autoEntities(message.text, body.entities);
    if (entities) message.entities = entities;
  }
  if (body.reply_to !== undefined && body.reply_to !== null) {
    const target = state.findMessage(token, chat.id, body.reply_to);
    if (!target) throw badRequest('message to be replied not found');
    message.reply_to_message = target;
  }
  const messageId = state.server.messageId;
  const updateId = state.server.updateId;
  await state.server.addUserMessage({ ...message, botToken: token });
  state.userMessages.set(`${token}:${chat.id}:${messageId}`, { ...message, message_id: messageId });
  state.updateAdded(token);
  return { message_id: messageId, update_id: updateId, chat_id: chat.id };
}

/** POST /_test/edit: a user edits an earlier text message (edited_message update). */
function userEdit(state, token, body) {
  const { chat } = userAndChat(state, body);
  const key = `${token}:${chat.id}:${body.message_id}`;
  const original = state.userMessages.get(key);
  if (!original || original.text === undefined) throw badRequest('message to edit not found');
  const edited = { ...original, text: String(body.text), edit_date: now() };
  delete edited.entities;
  const entities = autoEntities(edited.text, body.entities);
  if (entities) edited.entities = entities;
  state.userMessages.set(key, edited);
  return { update_id: state.enqueueRaw(token, { edited_message: edited }) };
}

/** POST /_test/callback: a user presses an inline button that is really on that message. */
async function pressButton(state, token, body) {
  const record = state.findBotMessage(token, body.chat_id, body.message_id);
  if (!record) throw badRequest('message not found (or deleted)');
  const keyboard = (record.result.reply_markup || {}).inline_keyboard || [];
  if (!keyboard.flat().some((b) => b.callback_data === body.data)) {
    throw badRequest(`no button with callback_data ${JSON.stringify(body.data)} on message `
      + `${body.message_id}`);
  }
  const { from } = userAndChat(state, { ...body, chat_type: record.result.chat.type });
  const callbackId = String(state.server.callbackId);
  await state.server.addUserCallback({
    botToken: token, from, message: JSON.parse(JSON.stringify(record.result)), data: body.data,
  });
  state.bot(token).callbacks.add(callbackId);
  state.updateAdded(token);
  return { callback_query_id: callbackId };
}

/** POST /_test/inline_query: a user types "@bot query" in any chat. */
function inlineQuery(state, token, body) {
  const { from } = userAndChat(state, body);
  const id = String(state.nextQueryId++);
  state.bot(token).inlineQueries.add(id);
  const query = { id, from, query: String(body.query ?? ''), offset: body.offset || '',
    chat_type: body.chat_type || 'sender' };
  return { inline_query_id: id, update_id: state.enqueueRaw(token, { inline_query: query }) };
}

function botMessageView(record) {
  return {
    message_id: record.messageId, chat_id: record.result.chat.id, method: record.method,
    message: record.result, sent: record.message, reply_markup: record.markup ?? null,
    edits: record.edits, deleted: record.deleted,
  };
}

function stateView(state, token) {
  const bot = state.bot(token);
  return {
    calls: bot.calls, pending_updates: state.queue(token).length, polling: Boolean(bot.poll),
    webhook: bot.webhook && { url: bot.webhook.url, last_error: bot.webhook.lastError },
    chat_actions: bot.chatActions, callback_answers: bot.callbackAnswers,
    inline_answers: bot.inlineAnswers,
    commands: Object.entries(bot.commands).map(([key, commands]) => {
      const [scope, languageCode] = key.split('|');
      return { scope: JSON.parse(scope), language_code: languageCode, commands };
    }),
  };
}

/** Routes under /_test/ that drive the user side and inspect the emulator. */
function registerControl(app, state, respond) {
  const token = (req) => String(req.body.token || req.query.token || '');
  const post = (path, fn) => app.post(path, respond((req) => fn(state, token(req), req.body)));
  post('/_test/message', userMessage);
  post('/_test/edit', userEdit);
  post('/_test/callback', pressButton);
  post('/_test/inline_query', inlineQuery);
  post('/_test/update', (s, t, body) => ({ update_id: s.enqueueRaw(t, body.update) }));
  post('/_test/flood', (s, t, body) => {
    s.floods.set(`${body.token || '*'}:${body.method}`, {
      count: Number(body.count ?? 1), retryAfter: Number(body.retry_after ?? 1),
    });
    return true;
  });
  post('/_test/config', (s, t, body) => {
    if (body.html_strict !== undefined) s.config.htmlStrict = Boolean(body.html_strict);
    return s.config;
  });
  app.get('/_test/state', respond((req) => stateView(state, token(req))));
  // ?since=N skips the first N records (deleted ones included): a poller reads only what is new.
  app.get('/_test/bot_messages', respond((req) => state.botMessages(token(req), req.query.chat_id)
    .slice(Number(req.query.since ?? 0) || 0).map(botMessageView)));
  app.get('/_test/files/:fileId', (req, res) => {
    const file = state.files.get(req.params.fileId);
    if (!file) return res.status(404).end();
    return res.type(file.mimeType || 'application/octet-stream').send(file.data);
  });
}

module.exports = { registerControl };
