import { useState, type ReactNode } from 'react';

/**
 * A drop target with its file button: files dropped on it or picked with the button reach `onFiles`
 * alike. The input is reset after each pick, so picking the same file again still fires.
 */
export function DropZone({
  label,
  accept,
  multiple = false,
  hint,
  testId,
  className = '',
  onFiles,
  children,
}: {
  label: string;
  accept: string;
  multiple?: boolean;
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
        const files = [...e.dataTransfer.files];
        if (files.length) onFiles(multiple ? files : files.slice(0, 1));
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
      {children}
    </div>
  );
}
