import{s as r}from"../chunks/CO1hgHvc.js";import{y as t}from"../chunks/C3udt1Xk.js";export{t as load_css,r as start};
