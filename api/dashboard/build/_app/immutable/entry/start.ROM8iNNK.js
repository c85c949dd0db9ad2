import{s as r}from"../chunks/CtpIIums.js";import{y as t}from"../chunks/TXv1H1C6.js";export{t as load_css,r as start};
