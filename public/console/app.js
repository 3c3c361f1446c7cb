// The console: VMs live through the event stream, a button for each action the API says the VM
// allows now (allowed_actions; the page never repeats the transition table), a create form filled
// from the catalogs, and every error shown as the problem's detail.

import { ApiProblem, call, getKey, listVms, setKey } from './api.js';
import { followEvents } from './events.js';

const $ = (selector) => document.querySelector(selector);
const rows = new Map(); // VM id -> { vm, tr }
// VMs whose delete was accepted: an answer still in flight (a GET, the DELETE's own) must not bring them back.
const gone = new Set();
let flavors = [];
let stream;

// ------------------------------------------------------------------ messages

function showError(error) {
  const message = $('#message');
  message.textContent = error instanceof ApiProblem ? error.detail : String(error?.message ?? error);
  message.hidden = false;
}

function clearError() {
  $('#message').hidden = true;
  $('#message').textContent = '';
}

function setLive(state, text) {
  const live = $('#live');
  live.dataset.state = state;
  live.textContent = text;
}

/** Runs `work`, showing its problem; asks for a key on 401. */
async function attempt(work) {
  try {
    clearError();
    return await work();
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 401) askForKey();
    showError(error);
    return undefined;
  }
}

// ------------------------------------------------------------------ the VM table

function element(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
}

const label = (action) => action.charAt(0).toUpperCase() + action.slice(1);

function render(vm) {
  if (gone.has(vm.id)) return;
  if (vm.status === 'DELETED') {
    remove(vm.id);
    return;
  }
  const known = rows.get(vm.id);
  // A slower answer must not undo a newer one.
  if (known && known.vm.updated_at > vm.updated_at) return;
  const tr = known?.tr ?? element('tr');
  tr.dataset.id = vm.id;
  tr.dataset.name = vm.name;
  const status = element('span', { className: 'status', textContent: vm.task ? `${vm.status} · ${vm.task}` : vm.status });
  status.dataset.status = vm.status;
  const actions = (vm.allowed_actions ?? []).map((action) =>
    element('button', {
      type: 'button',
      textContent: label(action),
      className: action === 'delete' ? 'danger' : '',
      ariaLabel: `${label(action)} ${vm.name}`,
      onclick: () => act(vm.id, action),
    }),
  );
  const fault = vm.fault ? [element('small', { className: 'fault', textContent: vm.fault.message })] : [];
  tr.replaceChildren(
    element('th', { scope: 'row' }, [vm.name]),
    element('td', { className: 'status-cell' }, [status, ...fault]),
    element('td', {}, [vm.flavor]),
    element('td', {}, [vm.image]),
    element('td', {}, [vm.ip_address ?? '—']),
    element('td', {}, [element('div', { className: 'actions' }, actions)]),
  );
  for (const [i, name] of ['Name', 'Status', 'Flavor', 'Image', 'IP', 'Actions'].entries()) tr.children[i].dataset.label = name;
  tr.lastChild.classList.add('actions-cell');
  if (!known) $('#vm-rows').append(tr);
  rows.set(vm.id, { vm, tr });
  $('#empty').hidden = rows.size > 0;
}

function remove(id) {
  gone.add(id);
  rows.get(id)?.tr.remove();
  rows.delete(id);
  $('#empty').hidden = rows.size > 0;
}

async function refresh(id) {
  try {
    render(await call('GET', `/vms/${id}`));
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 404) remove(id);
    else showError(error);
  }
}

async function relist() {
  const vms = await attempt(listVms);
  if (!vms) return;
  // A fresh list is the truth: it may bring back nothing that was deleted, by construction.
  gone.clear();
  const seen = new Set(vms.map((vm) => vm.id));
  for (const id of [...rows.keys()]) if (!seen.has(id)) remove(id);
  for (const vm of vms) render(vm);
}

// ------------------------------------------------------------------ actions

/** Asks what an action needs (a flavor, a restart type, a confirmation); resolves with its body, or null if cancelled. */
function ask(action, vm) {
  const dialog = $('#action-dialog');
  const fields = $('#dialog-fields');
  const confirm = $('#dialog-confirm');
  $('#dialog-title').textContent = `${label(action)} ${vm.name}`;
  confirm.textContent = label(action);
  confirm.className = action === 'delete' ? 'danger' : '';
  fields.replaceChildren();
  let body = () => undefined;
  if (action === 'delete') {
    $('#dialog-text').textContent = `Delete ${vm.name}? This cannot be undone.`;
  } else if (action === 'resize') {
    $('#dialog-text').textContent = `Now ${vm.flavor}.`;
    const select = element(
      'select',
      { name: 'flavor', id: 'dialog-flavor' },
      flavors.filter((f) => f.name !== vm.flavor).map((f) => element('option', { value: f.name, textContent: flavorText(f) })),
    );
    fields.append(element('label', { htmlFor: 'dialog-flavor', textContent: 'New flavor' }), select);
    body = () => ({ flavor: select.value });
  } else if (action === 'restart') {
    $('#dialog-text').textContent = 'A soft restart asks the guest; a hard one resets it.';
    const select = element('select', { name: 'type', id: 'dialog-type' }, [
      element('option', { value: 'soft', textContent: 'soft' }),
      element('option', { value: 'hard', textContent: 'hard' }),
    ]);
    fields.append(element('label', { htmlFor: 'dialog-type', textContent: 'Type' }), select);
    body = () => ({ type: select.value });
  }
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm' ? (body() ?? {}) : null), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
  });
}

async function act(id, action) {
  const known = rows.get(id);
  if (!known) return;
  let body;
  if (action === 'delete' || action === 'resize' || action === 'restart') {
    body = await ask(action, known.vm);
    if (body === null) return;
  }
  const vm = await attempt(() =>
    action === 'delete' ? call('DELETE', `/vms/${id}`) : call('POST', `/vms/${id}/${action}`, action === 'resize' || action === 'restart' ? body : undefined),
  );
  if (vm) render(vm);
}

// ------------------------------------------------------------------ create form

const flavorText = (f) => `${f.name} (${f.vcpus} vCPU, ${f.ram_mb} MB)`;

async function loadCatalogs() {
  const [flavorList, imageList] = (await attempt(() => Promise.all([call('GET', '/flavors'), call('GET', '/images')]))) ?? [];
  if (!flavorList) return;
  flavors = flavorList.data;
  const form = $('#create-form');
  form.flavor.replaceChildren(...flavors.map((f) => element('option', { value: f.name, textContent: flavorText(f) })));
  form.image.replaceChildren(...imageList.data.map((i) => element('option', { value: i.name, textContent: i.name })));
}

async function create(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const vm = await attempt(() =>
    call('POST', '/vms', { name: form.vmname.value.trim(), flavor: form.flavor.value, image: form.image.value, start: form.start.checked }),
  );
  if (!vm) return;
  render(vm);
  form.vmname.value = '';
  form.vmname.focus();
}

// ------------------------------------------------------------------ key and start-up

function askForKey() {
  stream?.stop();
  stream = undefined;
  setLive('off', 'needs a key');
  const form = $('#key-form');
  form.hidden = false;
  form.key.value = getKey();
  form.key.focus();
}

function useKey(event) {
  event.preventDefault();
  setKey(event.currentTarget.key.value.trim());
  $('#key-form').hidden = true;
  void start();
}

async function start() {
  stream?.stop();
  stream = followEvents({
    onOpen: () => {
      setLive('on', 'live');
      // Listed once the stream is open, so no change falls between the list and the stream.
      void relist();
    },
    onEvent: (type, data) => {
      if (data.resource !== 'vm') return;
      if (type === 'vm.deleted') remove(data.id);
      else void refresh(data.id);
    },
    onReset: () => void relist(),
    onDrop: () => setLive('off', 'reconnecting…'),
    onProblem: (problem) => {
      if (problem.status === 401) askForKey();
      showError(problem);
    },
  });
  await loadCatalogs();
}

$('#create-form').addEventListener('submit', create);
$('#key-form').addEventListener('submit', useKey);
void start();
