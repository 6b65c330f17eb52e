/* Waymark behaviour: progressive enhancement only; the site works without it. */
