// Vite bundles the stylesheet the app imports.
declare module '*.css';
