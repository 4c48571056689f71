/**
 * Import and export of other hypervisors' VM files (issue 20's web part):
 * the page /import (a file checked by a dry run, its mapping and warnings
 * shown, then imported) with the key `i`, and the VM page's export tab
 * (ExportPanel). Both need storage:write (admins).
 */
import { lazy } from 'react';
import { navigate } from '../../router.js';
import { registerAction, registerPage } from '../../registry.js';

export { ExportPanel } from './ExportPanel.js';

const ImportPage = lazy(() => import('./ImportPage.js'));

registerPage({ id: 'import', pattern: '/import', title: () => 'Import a VM', render: () => <ImportPage /> });
registerAction({ id: 'import', label: 'import a VM from another hypervisor\'s file', key: 'i', permission: 'storage:write', run: () => navigate('/import') });
