import { Connection } from './src/openstack/index.js';
import { readStack } from './test/openstack/mini-openstack.js';
const stack = readStack();
const c = new Connection({ auth: { type: 'password', authUrl: stack.auth_url, username: stack.demo.user, password: stack.demo.password, userDomainName: stack.demo.user_domain, projectName: stack.demo.project, projectDomainName: stack.demo.project_domain }, regionName: stack.region, timeoutMs: 90_000 });
const target = process.argv[2];
let t = Date.now();
if (target) {
  await c.network.deleteSecurityGroup(target).then(() => console.log('deleted', target, Date.now() - t, 'ms'), (e) => console.log('failed', String(e), Date.now() - t, 'ms'));
} else {
  const groups = await c.network.listSecurityGroups({});
  console.log('list', Date.now() - t, 'ms', groups.map((g) => g.name).join(' '));
}
