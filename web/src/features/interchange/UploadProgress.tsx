/** An upload under way: a progress bar of bytes sent, the numbers, and Cancel. */
import { progressText } from './upload.js';

export function UploadProgress({ name, sent, total, onCancel }: { name: string; sent: number; total: number; onCancel: () => void }) {
  return (
    <div className="row" role="status" data-testid="import-upload-progress">
      <span className="muted small">Uploading {name}: {progressText(sent, total)}</span>
      <progress max={Math.max(total, 1)} value={Math.min(sent, total)} aria-label={`upload of ${name}`} />
      <button type="button" onClick={onCancel}>Cancel upload</button>
    </div>
  );
}
