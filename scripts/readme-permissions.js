// Regenerates the README's "Who may do what" table from src/security/permissions.ts (run after `npm run build`).
const fs = require('fs');
const { PERMISSIONS } = require('../dist/src/security/permissions.js');
const roles = ['ADMIN', 'OPERATOR', 'INTEGRATION', 'VIEWER'];
let table = '| operation | ' + roles.join(' | ') + ' |\n|---|' + roles.map(() => ':-:').join('|') + '|\n';
for (const t of ['Query', 'Mutation', 'Subscription']) for (const [f, r] of Object.entries(PERMISSIONS[t])) table += '| `' + t + '.' + f + '` | ' + roles.map((x) => (r.includes(x) ? '✓' : ' ')).join(' | ') + ' |\n';
const readme = fs.readFileSync(require('path').join(__dirname, '../README.md'), 'utf8');
const start = readme.indexOf('| operation |');
const end = readme.indexOf('\n## ', start);
fs.writeFileSync(require('path').join(__dirname, '../README.md'), readme.slice(0, start) + table + readme.slice(end));
