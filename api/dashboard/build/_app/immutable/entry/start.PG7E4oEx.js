import{s as r}from"../chunks/CDOo80B2.js";import{y as t}from"../chunks/C5707xFC.js";export{t as load_css,r as start};
