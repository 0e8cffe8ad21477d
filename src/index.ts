// Entry point for both steps: action.yml runs this file as main and as post.
import { loadState } from './state.js';
import { main } from './main.js';
import { post } from './post.js';

void (loadState().isPost ? post() : main());
