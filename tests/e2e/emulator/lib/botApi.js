'use strict';

const { parseHtml, ParseError } = require('./html');
const { ApiError, badRequest, now } = require('./state');

const TEXT_LIMIT = 4096;
const CAPTION_LIMIT = 1024;
const CHAT_ACTIONS = new Set(['typing', 'upload_photo', 'record_video', 'upload_video',
  'record_voice', 'upload_voice', 'upload_document', 'choose_sticker', 'find_location',
  'record_video_note', 'upload_video_note']);
// What a sent file looks like in the returned Message, per method (besides ids and size).
const MEDIA = {
  sendDocument: ['document', {}], sendPhoto: ['photo', { width: 800, height: 600 }],
  sendAudio: ['audio', { duration: 1 }], sendVoice: ['voice', { duration: 1 }],
  sendVideo: ['video', { width: 640, height: 360, duration: 1 }],
  sendAnimation: ['animation', { width: 320, height: 240, duration: 1 }],
  sendSticker: ['sticker', { width: 512, height: 512, type: 'regular', is_animated: false,
    is_video: false }],
};
const JSON_PARAMS = ['reply_markup', 'entities', 'caption_entities', 'reply_parameters',
  'link_preview_options', 'commands', 'scope', 'results', 'allowed_updates', 'button'];

/** Form-encoded requests carry JSON-encoded objects as strings (python-telegram-bot does so). */
function decodeParams(body) {
  const params = { ...body };
  for (const key of JSON_PARAMS) {
    if (typeof params[key] === 'string') {
      try { params[key] = JSON.parse(params[key]); } catch {
        throw badRequest(`can't parse ${key} JSON object`);
      }
    }
  }
  return params;
}

/** Visible text and entities of a text or caption, with Telegram's checks. */
function formatText(raw, parseMode, entities, { limit, what, strict }) {
  if (raw === undefined || raw === null || String(raw).trim() === '') {
    if (what === 'caption') return {};
    throw badRequest('message text is empty');
  }
  let parsed = { text: String(raw), entities: entities || [] };
  if (String(parseMode || '').toUpperCase() === 'HTML') {
    try { parsed = parseHtml(String(raw), { strict }); } catch (error) {
      if (error instanceof ParseError) throw badRequest(`can't parse entities: ${error.message}`);
      throw error;
    }
  }
  if (parsed.text.trim() === '' && what !== 'caption') throw badRequest('message text is empty');
  // String length in JS is UTF-16 code units, which is what Telegram counts.
  if (parsed.text.length > limit) {
    throw badRequest(what === 'caption' ? 'message caption is too long' : 'message is too long');
  }
  const [key, entitiesKey] = what === 'caption' ? ['caption', 'caption_entities']
    : ['text', 'entities'];
  const result = { [key]: parsed.text };
  if (parsed.entities.length) result[entitiesKey] = parsed.entities;
  return result;
}

/** Telegram rejects inline buttons without an action and callback_data over 64 bytes. */
function checkMarkup(markup) {
  if (!markup || !markup.inline_keyboard) return;
  for (const button of markup.inline_keyboard.flat()) {
    const actions = Object.keys(button).filter((k) => k !== 'text');
    if (!button.text || actions.length === 0) {
      throw badRequest("can't parse inline keyboard button: Text buttons are unallowed in the "
        + 'inline keyboard');
    }
    const data = button.callback_data;
    if (data !== undefined && (Buffer.byteLength(String(data)) > 64 || String(data) === '')) {
      throw badRequest('BUTTON_DATA_INVALID');
    }
  }
}

const inlineOnly = (markup) => (markup && markup.inline_keyboard ? markup : undefined);

function handlers(state) {
  const strict = () => state.config.htmlStrict;

  function replyTo(token, chatId, params) {
    const reply = params.reply_parameters
      || (params.reply_to_message_id && { message_id: params.reply_to_message_id });
    if (!reply) return {};
    const target = state.findMessage(token, reply.chat_id || chatId, reply.message_id);
    if (!target && !reply.allow_sending_without_reply) {
      throw badRequest('message to be replied not found');
    }
    return target ? { reply_to_message: target } : {};
  }

  function send(token, method, params, content) {
    state.chat(params.chat_id); // rejects a missing or malformed chat_id
    checkMarkup(params.reply_markup);
    const message = {
      ...content, ...replyTo(token, params.chat_id, params),
      reply_markup: inlineOnly(params.reply_markup),
    };
    return state.addBotMessage(token, method, params, message).result;
  }

  function editable(token, params, field) {
    const record = state.findBotMessage(token, params.chat_id, params.message_id);
    if (!record) throw badRequest('message to edit not found');
    if (field === 'text' && record.result.text === undefined) {
      throw badRequest('there is no text in the message to edit');
    }
    if (field === 'caption' && record.result.text !== undefined) {
      throw badRequest('there is no caption in the message to edit');
    }
    return record;
  }

  /** Apply an edit, refusing no-op edits like Telegram ("message is not modified"). */
  function applyEdit(record, changes, params) {
    const markup = params.reply_markup;
    checkMarkup(markup);
    const next = { ...record.result, ...changes, reply_markup: inlineOnly(markup) };
    for (const key of Object.keys(changes)) if (changes[key] === undefined) delete next[key];
    const same = (key) => JSON.stringify(next[key]) === JSON.stringify(record.result[key]);
    if (['text', 'entities', 'caption', 'caption_entities', 'reply_markup'].every(same)) {
      throw badRequest('message is not modified: specified new message content and reply '
        + 'markup are exactly the same as a current content and reply markup of the message');
    }
    next.edit_date = now();
    Object.assign(record, { result: next, markup, edits: record.edits + 1 });
    Object.assign(record.message, params); // the request as sent, like the package's own edits
    return next;
  }

  function sendMedia(token, method, params, files) {
    const [field, extra] = MEDIA[method];
    const upload = files[field]
      || (String(params[field] || '').startsWith('attach://') && files[params[field].slice(9)]);
    let fileId = params[field];
    if (upload) {
      fileId = state.storeFile(field, {
        data: upload.data, fileName: upload.filename, mimeType: upload.contentType,
      });
    } else if (!fileId) {
      throw badRequest(`there is no ${field} in the request`);
    } else if (!state.files.has(fileId) && !/^https?:\/\//.test(fileId)) {
      throw badRequest('wrong file identifier/HTTP URL specified');
    }
    const stored = state.files.get(fileId) || {};
    const file = {
      file_id: fileId, file_unique_id: stored.uniqueId || fileId, file_size: stored.data?.length,
      ...extra,
    };
    if (field === 'document' || field === 'audio' || field === 'video') {
      Object.assign(file, { file_name: stored.fileName, mime_type: stored.mimeType });
    }
    const caption = formatText(params.caption, params.parse_mode, params.caption_entities,
      { limit: CAPTION_LIMIT, what: 'caption', strict: strict() });
    return send(token, method, params, { [field]: field === 'photo' ? [file] : file, ...caption });
  }

  const api = {
    getMe: (token) => ({
      ...state.botUser(token), can_join_groups: true, can_read_all_group_messages: false,
      supports_inline_queries: true,
    }),
    logOut: () => true,
    close: () => true,

    sendMessage(token, params) {
      return send(token, 'sendMessage', params, formatText(params.text, params.parse_mode,
        params.entities, { limit: TEXT_LIMIT, what: 'text', strict: strict() }));
    },
    editMessageText(token, params) {
      if (params.inline_message_id) return true;
      const record = editable(token, params, 'text');
      const text = formatText(params.text, params.parse_mode, params.entities,
        { limit: TEXT_LIMIT, what: 'text', strict: strict() });
      return applyEdit(record, { entities: undefined, ...text }, params);
    },
    editMessageCaption(token, params) {
      if (params.inline_message_id) return true;
      const caption = formatText(params.caption, params.parse_mode, params.caption_entities,
        { limit: CAPTION_LIMIT, what: 'caption', strict: strict() });
      return applyEdit(editable(token, params, 'caption'),
        { caption: undefined, caption_entities: undefined, ...caption }, params);
    },
    editMessageReplyMarkup(token, params) {
      if (params.inline_message_id) return true;
      return applyEdit(editable(token, params), {}, params);
    },
    deleteMessage(token, params) {
      const record = state.findBotMessage(token, params.chat_id, params.message_id);
      const userMessage = state.userMessages.get(
        `${token}:${params.chat_id}:${params.message_id}`);
      if (record) record.deleted = true;
      else if (userMessage && !userMessage.deleted) userMessage.deleted = true;
      else throw badRequest('message to delete not found');
      return true;
    },

    sendChatAction(token, params) {
      state.chat(params.chat_id);
      if (!CHAT_ACTIONS.has(params.action)) throw badRequest('wrong parameter action in request');
      state.bot(token).chatActions.push({
        chat_id: Number(params.chat_id), action: params.action, date: now(),
      });
      return true;
    },
    answerCallbackQuery(token, params) {
      const bot = state.bot(token);
      const id = String(params.callback_query_id);
      if (!bot.callbacks.has(id) || id in bot.callbackAnswers) {
        throw badRequest('query is too old and response timeout expired or query ID is invalid');
      }
      bot.callbackAnswers[id] = {
        text: params.text, show_alert: String(params.show_alert) === 'true', url: params.url,
      };
      return true;
    },
    answerInlineQuery(token, params) {
      const bot = state.bot(token);
      const id = String(params.inline_query_id);
      if (!bot.inlineQueries.has(id) || id in bot.inlineAnswers) {
        throw badRequest('query is too old and response timeout expired or query ID is invalid');
      }
      if (!Array.isArray(params.results) || params.results.length > 50) {
        throw badRequest('RESULTS_TOO_MUCH');
      }
      bot.inlineAnswers[id] = {
        results: params.results, cache_time: params.cache_time, next_offset: params.next_offset,
        is_personal: params.is_personal, button: params.button,
      };
      return true;
    },

    setMyCommands(token, params) {
      const commands = params.commands || [];
      if (!Array.isArray(commands) || commands.length > 100) throw badRequest('BOT_COMMANDS_TOO_MUCH');
      for (const { command, description } of commands) {
        if (!/^[a-z0-9_]{1,32}$/.test(String(command || ''))) throw badRequest('BOT_COMMAND_INVALID');
        if (!description || String(description).length > 256) {
          throw badRequest('BOT_COMMAND_DESCRIPTION_INVALID');
        }
      }
      state.bot(token).commands[commandsKey(params)] = commands;
      return true;
    },
    getMyCommands: (token, params) => state.bot(token).commands[commandsKey(params)] || [],
    deleteMyCommands(token, params) {
      delete state.bot(token).commands[commandsKey(params)];
      return true;
    },

    setWebhook(token, params) {
      if (!/^https?:\/\//.test(String(params.url || ''))) {
        return api.deleteWebhook(token, params);
      }
      const bot = state.bot(token);
      bot.webhook = { url: params.url, secret: params.secret_token, lastError: null };
      if (String(params.drop_pending_updates) === 'true') dropPending(state, token);
      bot.delivery = bot.delivery.then(() => state.deliver(token));
      return true;
    },
    deleteWebhook(token, params) {
      state.bot(token).webhook = null;
      if (String(params.drop_pending_updates) === 'true') dropPending(state, token);
      return true;
    },
    getWebhookInfo(token) {
      const { webhook } = state.bot(token);
      const info = { url: webhook ? webhook.url : '', has_custom_certificate: false,
        pending_update_count: state.queue(token).length };
      if (webhook && webhook.lastError) {
        info.last_error_date = webhook.lastError.date;
        info.last_error_message = webhook.lastError.message;
      }
      return info;
    },

    getUpdates(token, params, files, res) {
      return longPoll(state, token, params, res);
    },

    getFile(token, params) {
      const file = state.files.get(String(params.file_id));
      if (!file) throw badRequest('invalid file_id');
      return { file_id: params.file_id, file_unique_id: file.uniqueId, file_size: file.data.length,
        file_path: file.path };
    },
  };
  for (const method of Object.keys(MEDIA)) {
    api[method] = (token, params, files) => sendMedia(token, method, params, files);
  }
  return api;
}

const CONFLICT = 'Conflict: terminated by other getUpdates request; make sure that only one '
  + 'bot instance is running';

/**
 * getUpdates with Telegram's semantics, which telegram-test-api lacks: `offset` confirms older
 * updates, and with `timeout` the request is held until an update arrives (long polling).
 */
async function longPoll(state, token, params, res) {
  const bot = state.bot(token);
  if (bot.webhook) {
    throw new ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
      + 'use deleteWebhook to delete the webhook first');
  }
  const offset = Number(params.offset) || 0;
  const limit = Math.min(Math.max(Number(params.limit) || 100, 1), 100);
  const deadline = Date.now() + Math.max(Number(params.timeout) || 0, 0) * 1000;
  if (params.allowed_updates !== undefined) bot.allowedUpdates = params.allowed_updates;
  state.confirm(token, offset);
  if (bot.poll) bot.poll.conflict(); // a second poller: the older request loses, like Telegram
  for (;;) {
    const updates = state.select(token, offset, limit);
    const left = deadline - Date.now();
    if (updates.length || left <= 0) return updates;
    const outcome = await new Promise((resolve) => {
      const poll = { wake: () => done('update'), conflict: () => done('conflict') };
      const timer = setTimeout(() => done('timeout'), left);
      const onClose = () => done('closed');
      function done(why) {
        clearTimeout(timer);
        res.off('close', onClose);
        if (bot.poll === poll) bot.poll = null;
        resolve(why);
      }
      bot.poll = poll;
      res.on('close', onClose);
    });
    if (outcome === 'conflict') throw new ApiError(409, CONFLICT);
    if (outcome === 'closed') return undefined; // the bot gave up on this request
  }
}

const commandsKey = (params) => `${JSON.stringify(params.scope || { type: 'default' })}|${
  params.language_code || ''}`;

function dropPending(state, token) {
  for (const item of state.queue(token)) item.confirmed = true;
}

module.exports = { handlers, decodeParams, dropPending, ApiError };
