'use strict';
/**
 * How many SQL statements a text holds: semicolons outside quotes, dollar quotes
 * and comments, with empty statements left out. psql sends each statement of a
 * script on its own, so for a script this is also its round trips.
 */
function countStatements(text) {
  let count = 0;
  let content = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i];
    const next = text[i + 1];
    if (ch === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
    } else if (ch === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
    } else if (ch === "'" || ch === '"') {
      content = true;
      i++;
      while (i < n) {
        if (text[i] === ch && text[i + 1] === ch) i += 2;
        else if (text[i] === ch) break;
        else i++;
      }
      i++;
    } else if (ch === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(text.slice(i, i + 64));
      content = true;
      if (tag) {
        const end = text.indexOf(tag[0], i + tag[0].length);
        i = end === -1 ? n : end + tag[0].length;
      } else i++;
    } else if (ch === ';') {
      if (content) count++;
      content = false;
      i++;
    } else {
      if (!/\s/.test(ch)) content = true;
      i++;
    }
  }
  return content ? count + 1 : count;
}

module.exports = { countStatements };
