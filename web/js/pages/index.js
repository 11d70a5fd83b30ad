// "/" : go to the dashboard when signed in, otherwise to the sign-in page.
import { api } from '../api.js';
import { h } from '../dom.js';
import { errorText } from '../ui.js';

const status = document.getElementById('index-status');

async function route() {
  try {
    await api('/me', { on401: 'throw' });
    location.replace('/dashboard.html');
  } catch (err) {
    if (err.status === 401) {
      location.replace('/login.html');
      return;
    }
    status.className = 'msg msg--error';
    status.replaceChildren(`The portal could not be opened: ${errorText(err)} `,
      h('button', { type: 'button', class: 'btn btn--small', onclick: () => location.reload() }, 'Try again'));
  }
}

route();
