/**
 * The pages, as Eta templates with autoEscape on: every `<%= %>` is HTML-escaped,
 * and the only raw output (`<%~ %>`) is the layout's body, itself rendered here.
 * Schema, table, app and credential names are user data and are never raw.
 */
import { Eta } from 'eta';

const LAYOUT = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title><%= it.title %> · pgcred</title>
<link rel="stylesheet" href="/assets/dashboard.css">
<script src="/assets/dashboard.js" defer></script>
</head>
<body<% if (it.poll) { %> data-poll="<%= it.poll %>"<% } %>>
<header class="top">
  <a class="brand" href="/">pgcred</a>
  <span class="where">Credentials for PostgreSQL</span>
  <% if (it.signedIn) { %>
  <form method="post" action="/signout" class="signout">
    <input type="hidden" name="_csrf" value="<%= it.csrf %>">
    <span class="actor">signed in as <%= it.actor %></span>
    <button type="submit">Sign out</button>
  </form>
  <% } %>
</header>
<main>
<% if (it.flash && it.flash.error) { %><p class="error" role="alert" id="flash-error"><%= it.flash.error %></p><% } %>
<% if (it.flash && it.flash.notes && it.flash.notes.length) { %>
<ul class="notes" id="flash-notes"><% it.flash.notes.forEach(function (n) { %><li><%= n %></li><% }) %></ul>
<% } %>
<%~ it.body %>
</main>
</body>
</html>`;

const SIGNIN = `<h1>Sign in</h1>
<p>Enter the sign-in token that <code>pgcred dashboard</code> printed when it started (or PGCRED_DASHBOARD_TOKEN).</p>
<form method="post" action="/signin" class="signin">
  <input type="hidden" name="_csrf" value="<%= it.csrf %>">
  <label>Token <input type="password" name="token" id="token" autocomplete="off" required></label>
  <button type="submit" id="signin">Sign in</button>
</form>`;

const DATABASES = `<h1>Databases</h1>
<table class="list" id="databases">
<thead><tr><th>Database</th><th>Plan</th><th>Color</th><th>Role</th><th>Status</th></tr></thead>
<tbody>
<% it.databases.forEach(function (d) { %>
<tr>
  <td><a href="/databases/<%= encodeURIComponent(d.spec.name) %>">⛁ <%= d.spec.name %></a></td>
  <td><%= d.spec.plan %></td>
  <td><span class="color color-<%= d.spec.color %>"><%= d.spec.color %></span></td>
  <td><%= d.spec.role %></td>
  <td class="<%= d.drifted ? 'drifted' : 'insync' %>"><%= d.status %></td>
</tr>
<% }) %>
</tbody>
</table>`;

const TABS = `<h1>⛁ <%= it.spec.name %> <span class="color color-<%= it.spec.color %>"><%= it.spec.color %></span></h1>
<p class="meta"><%= it.spec.plan %> · <%= it.spec.role %><% if (it.spec.executor === 'terraform') { %> · roles and grants owned by Terraform<% } %></p>
<nav class="tabs">
  <a href="<%= it.base %>" class="<%= it.tab === 'credentials' ? 'current' : '' %>">Credentials</a>
  <a href="<%= it.base %>/drift" class="<%= it.tab === 'drift' ? 'current' : '' %>">Drift</a>
  <a href="<%= it.base %>/audit" class="<%= it.tab === 'audit' ? 'current' : '' %>">Audit</a>
</nav>`;

const HIDDEN = `<input type="hidden" name="_csrf" value="<%= it.csrf %>">`;

const CREDENTIALS = `<%~ include('@tabs', it) %>
<% const off = it.page.disabled ? 'disabled' : ''; const roleOff = (it.page.disabled || it.page.rolesRefused) ? 'disabled' : ''; %>
<% if (it.page.disabled) { %><p class="refusal" id="disabled-reason"><%= it.page.disabled %></p><% } %>
<% if (it.page.rolesRefused) { %><p class="refusal" id="roles-refused"><%= it.page.rolesRefused %></p><% } %>
<section class="create">
<h2>Create Credential</h2>
<% if (it.page.createRefused) { %>
<p class="refusal" id="create-refused"><%= it.page.createRefused %></p>
<% } else { %>
<form method="post" action="<%= it.base %>/credentials" id="create-form">
  <%~ include('@hidden', it) %>
  <label>Name <input name="name" id="create-name" required pattern="[A-Za-z0-9_\\-]{1,50}" <%= roleOff %>></label>
  <label>Permission level
    <select name="level" id="create-level" <%= roleOff %>>
      <option value="none">None</option><option value="read-only">Read-only</option><option value="read-write">Read-write</option>
    </select></label>
  <button type="submit" id="create-submit" <%= roleOff %>>Create Credential</button>
</form>
<% } %>
</section>

<section class="credentials">
<h2>Credentials</h2>
<table class="list" id="credentials">
<thead><tr><th>Credential</th><th>State</th><th>Permission level</th><th>Attachments</th><th>Actions</th></tr></thead>
<tbody>
<% it.page.credentials.forEach(function (c) { %>
<tr data-credential="<%= c.name %>">
  <td class="name"><%= c.name %><% if (c.name !== 'default' && !it.page.declared.has(c.name)) { %> <span class="tag">not in the file</span><% } %></td>
  <td class="state"><%= c.state %><% if (c.passwordKnown === false) { %>, password unknown to pgcred<% } %>
  <% if (c.usernames) { %>
    <table class="usernames" data-rotation="<%= c.name %>">
      <caption>Usernames currently active for this credential:</caption>
      <% c.usernames.forEach(function (u) { %>
      <tr data-user="<%= u.user %>"><td class="user"><%= u.user %></td><td class="ustate"><%= u.state %></td><td class="conns"><%= u.connections %> connection<%= u.connections === 1 ? '' : 's' %></td></tr>
      <% }) %>
    </table>
  <% } %>
  </td>
  <td class="level"><%= it.levels.get(c.name) || '' %><% if (it.page.declared.has(c.name)) { %><br><span class="declared">declared: <%= it.page.declared.get(c.name) %></span><% } %></td>
  <td class="attachments">
    <ul>
    <% c.attachments.forEach(function (a) { %>
      <li>as <%= a.name %> on ⬢ <%= a.app %> app
        <form method="post" action="<%= it.base %>/detach" class="inline">
          <%~ include('@hidden', it) %>
          <input type="hidden" name="app" value="<%= a.app %>"><input type="hidden" name="name" value="<%= a.name %>">
          <button type="submit" class="detach" <%= off %>>Detach</button>
        </form>
      </li>
    <% }) %>
    </ul>
    <% if (c.state !== 'not created') { %>
    <form method="post" action="<%= it.base %>/credentials/<%= encodeURIComponent(c.name) %>/attach" class="attach">
      <%~ include('@hidden', it) %>
      <input name="app" placeholder="app" list="apps" required class="attach-app" <%= off %>>
      <input name="as" placeholder="as (optional)" class="attach-as" <%= off %>>
      <button type="submit" class="attach-submit" <%= off %>>Attach</button>
    </form>
    <% } %>
  </td>
  <td class="actions">
    <% if (c.state !== 'not created') { %>
    <form method="post" action="<%= it.base %>/credentials/<%= encodeURIComponent(c.name) %>/reveal" class="inline">
      <%~ include('@hidden', it) %>
      <span class="masked">postgres://<%= c.username %>:••••••••@…</span>
      <button type="submit" class="reveal">Show</button>
    </form>
    <% if (c.name !== 'default') { %>
    <form method="post" action="<%= it.base %>/credentials/<%= encodeURIComponent(c.name) %>/level" class="inline">
      <%~ include('@hidden', it) %>
      <select name="level" class="level-select" <%= roleOff %>>
        <% [['none', 'None'], ['read-only', 'Read-only'], ['read-write', 'Read-write']].forEach(function (o) { %><option value="<%= o[0] %>"<%= it.levels.get(c.name) === o[0] ? ' selected' : '' %>><%= o[1] %></option><% }) %>
      </select>
      <button type="submit" class="level-submit" <%= roleOff %>>Change level</button>
    </form>
    <% } %>
    <form method="post" action="<%= it.base %>/credentials/<%= encodeURIComponent(c.name) %>/rotate" class="inline">
      <%~ include('@hidden', it) %>
      <button type="submit" class="rotate" <%= off %>>Rotate</button>
    </form>
    <form method="post" action="<%= it.base %>/credentials/<%= encodeURIComponent(c.name) %>/rotate" class="inline">
      <%~ include('@hidden', it) %>
      <input type="hidden" name="force" value="1">
      <button type="submit" class="force-rotate" <%= off %>>Force rotate</button>
    </form>
    <% if (c.name !== 'default') { %>
    <form method="post" action="<%= it.base %>/credentials/<%= encodeURIComponent(c.name) %>/destroy" class="inline">
      <%~ include('@hidden', it) %>
      <button type="submit" class="destroy" <%= roleOff %>>Destroy</button>
    </form>
    <% } %>
    <% } %>
  </td>
</tr>
<% }) %>
</tbody>
</table>
<datalist id="apps"><% it.page.apps.forEach(function (a) { %><option value="<%= a %>"><% }) %></datalist>
</section>

<section class="matrix">
<h2>Access</h2>
<p class="legend"><span class="cell none">none</span> <span class="cell read">read</span> <span class="cell read-write">read-write</span> <span class="cell custom">custom</span> <span class="cell owner">owner</span> <span class="cell empty">no tables</span></p>
<table class="matrix" id="matrix">
<thead><tr><th>Credential</th><% it.page.matrix.schemas.forEach(function (s) { %><th class="schema"><%= s %></th><% }) %></tr></thead>
<tbody>
<% it.page.matrix.rows.forEach(function (r) { %>
<tr><th><%= r.credential %></th><% r.cells.forEach(function (cell) { %><td class="cell <%= cell.kind %>" title="<%= cell.detail %>"><%= cell.kind === 'empty' ? '–' : cell.kind %></td><% }) %></tr>
<% }) %>
</tbody>
</table>
</section>`;

const PLAN_CHANGES = `<% if (it.plan) { %>
<% if (it.plan.changes.length === 0) { %><p id="no-change">No change: the credential already has exactly this.</p><% } %>
<ul class="changes" id="changes">
<% it.plan.changes.forEach(function (c) { %>
  <li class="<%= c.destructive || c.action === 'reset-password' ? 'loses' : (c.action === 'grant' || c.action === 'grant-membership' || c.action === 'create' ? 'gains' : 'alters') %>">
    <strong><%= c.subject %></strong> <%= c.description %>
  </li>
<% }) %>
</ul>
<% if (it.plan.statements.length) { %>
<details><summary>SQL (<%= it.plan.statements.length %> statement<%= it.plan.statements.length === 1 ? '' : 's' %>)</summary>
<pre class="sql"><% it.plan.statements.forEach(function (s) { %><%= s.sql %>;
<% }) %></pre></details>
<% } %>
<% } %>`;

const CONFIRM = `<%~ include('@tabs', it) %>
<h2><%= it.heading %></h2>
<% if (it.warning) { %><p class="warning">WARNING: Destructive Action</p><% } %>
<ul class="impact" id="impact"><% it.impact.forEach(function (line) { %><li><%= line %></li><% }) %></ul>
<%~ include('@changes', it) %>
<form method="post" action="<%= it.action %>" id="confirm-form">
  <%~ include('@hidden', it) %>
  <input type="hidden" name="pending" value="<%= it.pending %>">
  <% if (it.typeName) { %>
  <label>To proceed, type <strong><%= it.spec.name %></strong> <input name="confirm" id="confirm-name" autocomplete="off"></label>
  <% } %>
  <button type="submit" id="confirm">Confirm</button>
  <a href="<%= it.base %>">Cancel</a>
</form>`;

const REVEAL = `<%~ include('@tabs', it) %>
<h2>Connection information for <%= it.name %> credential.</h2>
<p>Connection info string:</p>
<pre class="secret" id="info"><%= it.info %></pre>
<button type="button" data-copy="info" class="copy">Copy</button>
<p>Connection URL:</p>
<pre class="secret" id="url"><%= it.url %></pre>
<button type="button" data-copy="url" class="copy">Copy</button>
<p class="note">Shown at your request and recorded in the audit log.</p>
<p><a href="<%= it.base %>">Back to the credentials</a></p>`;

const DRIFT = `<%~ include('@tabs', it) %>
<h2>Plan</h2>
<% if (it.plan.errors.length) { %><ul class="error"><% it.plan.errors.forEach(function (e) { %><li><%= e %></li><% }) %></ul><% } %>
<% if (it.plan.changes.length === 0 && it.findings.length === 0) { %><p id="in-sync">In sync: the live database matches the declaration.</p><% } %>
<% it.groups.forEach(function (g) { %>
<section class="subject"><h3><%= g.subject %></h3>
<ul class="changes"><% g.changes.forEach(function (c) { %><li class="<%= c.destructive ? 'loses' : 'gains' %>"><%= c.description %></li><% }) %></ul>
<details><summary>SQL</summary><pre class="sql"><% g.changes.forEach(function (c) { %><%= c.sql %>;
<% }) %></pre></details>
</section>
<% }) %>
<% if (it.findings.length) { %>
<h3>Drift and notices</h3>
<ul class="findings"><% it.findings.forEach(function (f) { %><li class="<%= f.severity %>"><strong><%= f.subject %></strong>: <%= f.description %> <em><%= f.remedy %></em></li><% }) %></ul>
<% } %>`;

const AUDIT = `<%~ include('@tabs', it) %>
<h2>Audit log</h2>
<table class="list" id="audit">
<thead><tr><th>When</th><th>Who</th><th>What</th><th>Subject</th></tr></thead>
<tbody>
<% it.rows.forEach(function (r) { %>
<tr><td><%= r.at.toISOString().replace('T', ' ').slice(0, 19) %></td><td><%= r.actor %></td><td><%= r.action %></td><td><%= r.subject || '' %></td></tr>
<% }) %>
</tbody>
</table>`;

const MESSAGE = `<h1><%= it.heading %></h1><p class="error" role="alert"><%= it.message %></p><p><a href="/">Databases</a></p>`;

export type PageName =
  | 'signin'
  | 'databases'
  | 'credentials'
  | 'confirm'
  | 'reveal'
  | 'drift'
  | 'audit'
  | 'message';

export class Views {
  private readonly eta = new Eta({ autoEscape: true, autoTrim: false, cache: true });

  constructor() {
    const templates: Record<string, string> = {
      '@layout': LAYOUT,
      '@tabs': TABS,
      '@hidden': HIDDEN,
      '@changes': PLAN_CHANGES,
      '@signin': SIGNIN,
      '@databases': DATABASES,
      '@credentials': CREDENTIALS,
      '@confirm': CONFIRM,
      '@reveal': REVEAL,
      '@drift': DRIFT,
      '@audit': AUDIT,
      '@message': MESSAGE,
    };
    for (const [name, text] of Object.entries(templates)) this.eta.loadTemplate(name, text);
  }

  /** A whole page: the named body inside the layout. */
  page(name: PageName, data: Record<string, unknown> & { title: string }): string {
    const body = this.eta.render(`@${name}`, data);
    return this.eta.render('@layout', { ...data, body });
  }
}
