// The dashboard's only script, served from /assets (the CSP allows no inline script).
// It copies connection info and refreshes the usernames of a rotation; it writes
// text with textContent only, never HTML.

function copyButtons() {
  for (const button of document.querySelectorAll('[data-copy]')) {
    button.addEventListener('click', () => {
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      navigator.clipboard.writeText(source.textContent).then(
        () => {
          button.textContent = 'Copied';
        },
        () => {
          button.textContent = 'Select and copy';
        },
      );
    });
  }
}

function cell(row, className, text) {
  const td = document.createElement('td');
  td.className = className;
  td.textContent = text;
  row.appendChild(td);
}

function showRotation(table, rotation) {
  for (const row of [...table.querySelectorAll('tr')]) row.remove();
  for (const u of rotation.usernames) {
    const row = document.createElement('tr');
    row.dataset.user = u.user;
    cell(row, 'user', u.user);
    cell(row, 'ustate', u.state);
    cell(row, 'conns', `${u.connections} connection${u.connections === 1 ? '' : 's'}`);
    table.appendChild(row);
  }
}

function poll(url) {
  let failures = 0;
  const tick = () => {
    fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then((response) =>
        response.ok ? response.json() : Promise.reject(new Error(String(response.status))),
      )
      .then((body) => {
        failures = 0;
        const open = new Set(body.rotations.map((r) => r.credential));
        for (const table of document.querySelectorAll('[data-rotation]')) {
          if (!open.has(table.dataset.rotation)) {
            // The rotation ended: the page shows the credential as it is now.
            window.location.reload();
            return;
          }
        }
        for (const rotation of body.rotations) {
          const table = document.querySelector(`[data-rotation="${CSS.escape(rotation.credential)}"]`);
          if (!table) {
            window.location.reload();
            return;
          }
          showRotation(table, rotation);
        }
        if (body.rotations.length > 0) setTimeout(tick, 1000);
      })
      .catch(() => {
        failures += 1;
        if (failures < 30) setTimeout(tick, 2000);
      });
  };
  setTimeout(tick, 1000);
}

document.addEventListener('DOMContentLoaded', () => {
  copyButtons();
  const url = document.body.dataset.poll;
  if (url) poll(url);
});
