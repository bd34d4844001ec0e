// The renderer's entry: global styles, then the app. Styles are CSS files (no inline styles or
// eval), so a strict Content-Security-Policy holds. The locale guard comes before anything
// that imports uPlot.
import './lib/locale-guard.js';
import 'uplot/dist/uPlot.min.css';
import './styles/app.css';
import { mount } from 'svelte';
import App from './App.svelte';

const target = document.getElementById('app');
if (!target) throw new Error('index.html lacks #app');
mount(App, { target });
