import { useState, type ReactNode } from 'react';
import { filesOfDrop } from './droppedFiles';

/**
 * A drop target with its file button: files dropped on it or picked with the button reach `onFiles`
 * alike. The input is reset after each pick, so picking the same file again still fires. With
 * `multiple`, a dropped folder gives its files, and `folderLabel` adds a button that picks a folder.
 */
export function DropZone({
  label,
  accept,
  multiple = false,
  folderLabel,
  hint,
  testId,
  className = '',
  onFiles,
  children,
}: {
  label: string;
  accept: string;
  multiple?: boolean;
  folderLabel?: string;
  hint: ReactNode;
  testId: string;
  className?: string;
  onFiles: (files: File[]) => void;
  children?: ReactNode;
}) {
  const [dragging, setDragging] = useState(false);
  return (
    <div
      className={`dropzone ${className}${dragging ? ' dragging' : ''}`}
      data-testid={testId}
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        e.preventDefault();
        setDragging(false);
        if (!multiple) {
          const files = [...e.dataTransfer.files];
          if (files.length) onFiles(files.slice(0, 1));
          return;
        }
        void filesOfDrop(e.dataTransfer).then((files) => files.length && onFiles(files));
      }}
    >
      <p>{hint}</p>
      <label className="button">
        {label}
        <input
          type="file"
          multiple={multiple}
          accept={accept}
          aria-label={label}
          onChange={(e) => {
            const files = [...(e.target.files ?? [])];
            e.target.value = '';
            if (files.length) onFiles(files);
          }}
        />
      </label>
      {folderLabel && (
        <label className="button">
          {folderLabel}
          <input
            type="file"
            aria-label={folderLabel}
            // a folder pick: every file in it (Chromium, Firefox and Safari all take webkitdirectory)
            ref={(el) => el?.setAttribute('webkitdirectory', '')}
            onChange={(e) => {
              const files = [...(e.target.files ?? [])];
              e.target.value = '';
              if (files.length) onFiles(files);
            }}
          />
        </label>
      )}
      {children}
    </div>
  );
}
