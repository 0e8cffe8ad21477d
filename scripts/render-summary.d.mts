export declare function chromiumPath(): string | undefined;
export declare function summaryHtml(markdown: string): string;
export declare function render(
  summaryFile: string,
  outDir: string,
): { mermaid: string; diagrams: number; svgs: number; tables: number; html: string; png: string };
