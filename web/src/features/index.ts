/** Every feature of the UI registers itself (tree section, pages, actions) when imported: add a folder, add a line. */
import './datacenter/index.js';
import './endpoints/index.js';
import './vms/index.js';
import './networks/index.js';
import './stacks/index.js';
import './storage/index.js';
import './operations/index.js';
import './wizard/index.js';
import './interchange/index.js';
import './cluster/index.js';
