import{s as r}from"../chunks/BbCW9S9z.js";import{y as t}from"../chunks/CjatAyit.js";export{t as load_css,r as start};
